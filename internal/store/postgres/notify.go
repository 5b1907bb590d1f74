package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// workChannel carries "work was queued" between the processes of a fleet;
// the payload is the schema, so that Rosters sharing a database in other
// schemas (tests, staging) do not wake each other.
const workChannel = "roster_work"

// notifyWork is the dialect's statement that tells every listening process
// of this schema that work was queued.
const notifyWork = `SELECT pg_notify('` + workChannel + `', current_schema())`

// ListenWork calls wake each time a process of this database's schema says
// it queued work (sqlstore.DB.NotifyWork), until ctx ends: a worker
// process then claims what an API process (a SCIM change, say) queued at
// once, not at its next idle tick. A lost connection is made again after
// retry; meanwhile the idle tick still finds the work.
func ListenWork(ctx context.Context, log *slog.Logger, dsn string, retry time.Duration, wake func()) {
	for {
		err := listenOnce(ctx, dsn, wake)
		if ctx.Err() != nil {
			return
		}
		log.Warn("listening for queued work failed; the idle tick finds it meanwhile", "err", err, "retry_in", retry)
		select {
		case <-ctx.Done():
			return
		case <-time.After(retry):
		}
	}
}

func listenOnce(ctx context.Context, dsn string, wake func()) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("listen for work: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var schema string
	if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return fmt.Errorf("listen for work: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+workChannel); err != nil {
		return fmt.Errorf("listen for work: %w", err)
	}
	wake() // work queued while this process was not listening
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("listen for work: %w", err)
		}
		if n.Payload == schema {
			wake()
		}
	}
}
