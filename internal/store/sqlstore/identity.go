package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/roster-dev/roster/internal/directory"
)

// externalKeyIndexes are created once every row has its key (migration 0014).
var externalKeyIndexes = []string{
	`CREATE UNIQUE INDEX users_external_key ON users(external_key)`,
	`CREATE UNIQUE INDEX groups_external_key ON groups(external_key)`,
}

// fillExternalKeys gives users and groups stored before migration 0014 an
// external key, dated by their creation so that keys sort as rows were
// made, then indexes the keys.
func (s *DB) fillExternalKeys(ctx context.Context, tx *sql.Tx) error {
	for _, table := range []string{"users", "groups"} {
		if err := s.fillTableKeys(ctx, tx, table); err != nil {
			return fmt.Errorf("fill external keys of %s: %w", table, err)
		}
	}
	for _, q := range externalKeyIndexes {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("index external keys: %w", err)
		}
	}
	return nil
}

// fillTableKeys sets the keys of one table, 500 rows a statement.
func (s *DB) fillTableKeys(ctx context.Context, tx *sql.Tx, table string) error {
	type row struct{ id, created int64 }
	var all []row
	rows, err := tx.QueryContext(ctx, `SELECT id, created_at FROM `+table+` WHERE external_key = '' ORDER BY id`)
	if err != nil {
		return err
	}
	err = scanEach(rows, func(r scanner) error {
		var x row
		err := r.Scan(&x.id, &x.created)
		all = append(all, x)
		return err
	})
	if err != nil {
		return err
	}
	for start := 0; start < len(all); start += usersPerInsert {
		chunk := all[start:min(start+usersPerInsert, len(all))]
		var q strings.Builder
		args := make([]any, 0, 3*len(chunk))
		ids := make([]int64, len(chunk))
		q.WriteString(`UPDATE ` + table + ` SET external_key = CASE id`)
		for i, r := range chunk {
			q.WriteString(` WHEN ? THEN ?`)
			args = append(args, r.id, directory.NewExternalKey(fromNanos(r.created)))
			ids[i] = r.id
		}
		in, idArgs := inIDs(s.d.Arrays, ids)
		q.WriteString(` END WHERE id IN ` + in)
		if _, err := tx.ExecContext(ctx, s.d.Rebind(q.String()), append(args, idArgs...)...); err != nil {
			return err
		}
	}
	return nil
}

// lookupKey normalises a key given by a caller: keys are stored lowercase.
func lookupKey(key string) string { return strings.ToLower(strings.TrimSpace(key)) }
