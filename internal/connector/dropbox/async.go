package dropbox

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/roster-dev/roster/internal/connector"
)

// pollArg is a PollArg (reference §4.4).
type pollArg struct {
	AsyncJobID string `json:"async_job_id"`
}

// poll asks route about job until its answer is no longer in_progress. out
// receives each answer and tag must point at its .tag field; the caller reads
// complete or failed from out. Polling waits grow from PollInterval to 1s.
func (c *Client) poll(ctx context.Context, route, job string, out any, tag *string) error {
	pctx, cancel := context.WithTimeout(ctx, c.pollTimeout)
	defer cancel()
	wait := c.pollFirst
	for {
		if err := sleep(pctx, wait); err != nil {
			// The job may still finish: the engine must re-read state.
			return &connector.Error{Kind: connector.Retryable, Op: route, Msg: "async job " + job + " not finished", Err: err}
		}
		*tag = ""
		if err := c.do(pctx, call{route: route, in: pollArg{job}, out: out, read: true}); err != nil {
			return err
		}
		if *tag != "in_progress" {
			return nil
		}
		wait = min(2*wait, c.pollMax)
	}
}

// launched waits for a LaunchEmptyResult: done at once, or after its job
// completes. A job has no "failed" answer: a failure is the poll error
// internal_error (Retryable).
func (c *Client) launched(ctx context.Context, l asyncLaunch, pollRoute string) error {
	switch l.Tag {
	case "complete":
		return nil
	case "async_job_id":
		var st tagged
		if err := c.poll(ctx, pollRoute, l.AsyncJobID, &st, &st.Tag); err != nil {
			return err
		}
		if st.Tag == "complete" {
			return nil
		}
		return connector.Errorf(connector.Retryable, pollRoute, st.Tag, "unexpected job status")
	}
	return connector.Errorf(connector.Retryable, pollRoute, l.Tag, "unexpected launch result")
}

// backoff is the wait before resending a read for the n-th time (from 0):
// 200ms doubling, with full jitter in [d/2, d) so callers spread out.
func backoff(n int) time.Duration {
	d := 200 * time.Millisecond << min(n, 6)
	return d/2 + rand.N(d/2)
}
