package store

import "strings"

// IsPostgres reports whether a --database value names PostgreSQL rather than a SQLite file.
func IsPostgres(database string) bool {
	return strings.HasPrefix(database, "postgres://") || strings.HasPrefix(database, "postgresql://")
}
