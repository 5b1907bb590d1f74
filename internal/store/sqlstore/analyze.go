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
// waits for it. A table whose rows are mostly dead (the queue, once a push
// has drained it) is vacuumed too, so that the next claims do not step over
// 100,000 dead entries of its index. A failed ANALYZE (say, the role does not own the table) is
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
			stmt := `ANALYZE `
			if t.vacuum {
				stmt = `VACUUM (ANALYZE) `
			}
			_, _ = s.db.ExecContext(ctx, stmt+quoteIdent(t.name))
		}
	}
}

type staleTable struct {
	name   string
	vacuum bool // mostly dead rows: vacuum it too
}

// staleTables lists the tables the dialect's query names; none on an error.
func (s *DB) staleTables(ctx context.Context) []staleTable {
	rows, err := s.db.QueryContext(ctx, s.d.StaleTables)
	if err != nil {
		return nil
	}
	defer rows.Close()
	var out []staleTable
	for rows.Next() {
		var t staleTable
		if rows.Scan(&t.name, &t.vacuum) != nil {
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
