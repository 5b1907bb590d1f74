package sqlstore

import (
	"context"
	"time"
)

// PostgreSQL plans from statistics that autovacuum refreshes at most once a
// minute. A push fills empty tables (the queue, the accounts, the log) with
// 100,000 rows in well under that, and every batch meanwhile was planned as
// if the tables held nothing: the claim filtered 20,000 queued rows for its
// 2,000 instead of probing the key, and a user's groups were read with a
// scan of every membership, 50–120 ms a statement (auto_explain, issue 17).
// A store with a StaleTables query therefore looks every analyzeEvery for
// tables that changed by half their size since their last ANALYZE, and
// analyzes them itself, from a goroutine of its own, so that no statement
// waits for it. A failed ANALYZE (say, the role does not own the table) is
// harmless: autovacuum still does it later.

const analyzeEvery = 2 * time.Second

func (s *DB) startAnalyzer() {
	if s.d.StaleTables == "" {
		return
	}
	s.anStop, s.anDone = make(chan struct{}), make(chan struct{})
	go s.analyzer()
}

func (s *DB) analyzer() {
	defer close(s.anDone)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.anStop:
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		select {
		case <-s.anStop:
			return
		case <-time.After(analyzeEvery):
		}
		for _, t := range s.staleTables(ctx) {
			_, _ = s.db.ExecContext(ctx, `ANALYZE `+quoteIdent(t))
		}
	}
}

// staleTables lists the tables the dialect's query names; none on an error.
func (s *DB) staleTables(ctx context.Context) []string {
	rows, err := s.db.QueryContext(ctx, s.d.StaleTables)
	if err != nil {
		return nil
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if rows.Scan(&t) != nil {
			return nil
		}
		out = append(out, t)
	}
	return out
}

func (s *DB) stopAnalyzer() {
	if s.anStop == nil {
		return
	}
	close(s.anStop)
	<-s.anDone
}

// quoteIdent quotes a table name the database gave us, for ANALYZE.
func quoteIdent(name string) string {
	out := []byte{'"'}
	for i := 0; i < len(name); i++ {
		if name[i] == '"' {
			out = append(out, '"')
		}
		out = append(out, name[i])
	}
	return string(append(out, '"'))
}
