package sqlstore

import (
	"context"
	"time"
)

// SQLite copies its write-ahead log into the database (a checkpoint) inside
// whichever commit makes the log pass its size limit, so now and then one
// commit pays for the writes of many, with their fsyncs: a sync of 100
// changed users took 18 ms or, every other time, 36 ms. A store with a
// Checkpoint statement instead checkpoints from a goroutine of its own, on a
// reading connection, at most every checkpointEvery while commits come in;
// SQLite's own limit stays as a backstop (set where the database is opened).
// Every 200 ms rather than every second: a busy writer filled the log past
// that limit between two background checkpoints.

const checkpointEvery = 200 * time.Millisecond

// startCheckpointer starts the goroutine when the dialect asks for one.
func (s *DB) startCheckpointer() {
	if s.d.Checkpoint == "" {
		return
	}
	s.ckptKick = make(chan struct{}, 1)
	s.ckptStop = make(chan struct{})
	s.ckptDone = make(chan struct{})
	go s.checkpointer()
}

// committed tells the checkpointer that the log has grown.
func (s *DB) committed() {
	if s.ckptKick == nil {
		return
	}
	select {
	case s.ckptKick <- struct{}{}:
	default:
	}
}

func (s *DB) checkpointer() {
	defer close(s.ckptDone)
	for {
		select {
		case <-s.ckptStop:
			return
		case <-s.ckptKick:
		}
		// A failed checkpoint is harmless: the next one, or SQLite's own, copies the rest.
		_, _ = s.db.ExecContext(context.Background(), s.d.Checkpoint)
		select {
		case <-s.ckptStop:
			return
		case <-time.After(checkpointEvery):
		}
	}
}

// stopCheckpointer ends the goroutine before the handles close.
func (s *DB) stopCheckpointer() {
	if s.ckptStop == nil {
		return
	}
	close(s.ckptStop)
	<-s.ckptDone
}
