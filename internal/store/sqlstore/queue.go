package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

var _ store.Queue = (*DB)(nil)

// maxClaim is the most items one claim leases: the engine's batch.
const maxClaim = 2000

// ClaimWork leases due items of one app, of any of the claimed kinds. The
// keys are selected first and then updated by primary key: a row-value IN
// over a subquery made SQLite scan the whole queue for every claim. On
// PostgreSQL, SKIP LOCKED lets several workers claim side by side; SQLite has
// a single writer anyway.
func (s *DB) ClaimWork(ctx context.Context, c store.Claim) ([]store.WorkItem, error) {
	if len(c.Kinds) == 0 {
		return nil, fmt.Errorf("%w: a claim names at least one kind of work", directory.ErrInvalid)
	}
	now := s.now()
	dueBy := c.DueBy
	if dueBy.IsZero() || dueBy.After(now) {
		dueBy = now
	}
	var out []store.WorkItem
	err := s.inTxCombined(ctx, func(tx *sql.Tx) error {
		out = out[:0] // run again if a shared transaction failed
		keys, n, err := s.dueKeys(ctx, tx, c, now, dueBy)
		if err != nil || n == 0 {
			return err
		}
		out = slices.Grow(out, n)
		for _, kind := range c.Kinds {
			if ids := keys[kind]; len(ids) > 0 {
				if out, err = s.lease(ctx, tx, c, kind, ids, now, out); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return out, err
}

// kindIs is the condition on kind for a claim of these kinds, with its arguments.
func kindIs(kinds []string) (string, []any) {
	args := make([]any, len(kinds))
	for i, k := range kinds {
		args[i] = k
	}
	if len(kinds) == 1 {
		return `kind = ?`, args
	}
	return `kind IN (?` + strings.Repeat(", ?", len(kinds)-1) + `)`, args
}

// dueKeys finds the items a claim leases, by kind, oldest due first.
func (s *DB) dueKeys(ctx context.Context, tx *sql.Tx, c store.Claim, now, dueBy time.Time) (map[string][]int64, int, error) {
	cond, args := kindIs(c.Kinds)
	rows, err := s.queryPrepared(ctx, tx, s.q(`SELECT kind, ref_id FROM work_items
		WHERE app_id = ? AND `+cond+` AND state = 'queued' AND due_at <= ? AND lease_until < ?
		ORDER BY due_at LIMIT ?`+s.d.SkipLocked),
		append(append([]any{c.AppID}, args...), nanos(dueBy), nanos(now), max(1, min(c.Limit, maxClaim)))...)
	if err != nil {
		return nil, 0, fmt.Errorf("find due work: %w", err)
	}
	defer rows.Close()
	keys := make(map[string][]int64, len(c.Kinds))
	n := 0
	for rows.Next() {
		var kind string
		var id int64
		if err := rows.Scan(&kind, &id); err != nil {
			return nil, 0, err
		}
		keys[kind] = append(keys[kind], id)
		n++
	}
	return keys, n, rows.Err()
}

// lease takes the found items of one kind and appends them to out.
func (s *DB) lease(ctx context.Context, tx *sql.Tx, c store.Claim, kind string, ids []int64, now time.Time, out []store.WorkItem) ([]store.WorkItem, error) {
	in, args := inIDs(s.d.Arrays, ids)
	rows, err := s.queryPrepared(ctx, tx, s.q(`UPDATE work_items SET lease_owner = ?, lease_until = ?
		WHERE app_id = ? AND kind = ? AND ref_id IN `+in+`
		RETURNING app_id, kind, ref_id, reason, generation, attempts, due_at, created_at`),
		append([]any{c.Owner, nanos(now.Add(c.Lease)), c.AppID, kind}, args...)...)
	if err != nil {
		return out, fmt.Errorf("claim %s work: %w", kind, err)
	}
	defer rows.Close()
	for rows.Next() {
		w := store.WorkItem{LeaseOwner: c.Owner}
		var due, created int64
		if err := rows.Scan(&w.AppID, &w.Kind, &w.RefID, &w.Reason, &w.Generation, &w.Attempts, &due, &created); err != nil {
			return out, err
		}
		w.DueAt, w.CreatedAt = fromNanos(due), fromNanos(created)
		out = append(out, w)
	}
	return out, rows.Err()
}

// FinishWork stores a batch's outcomes atomically, with a few multi-row
// statements per batch rather than several per item. Each kind records its
// payload its own way; how the items end is settled the same way for all.
func (s *DB) FinishWork(ctx context.Context, owner string, outs []store.Outcome) error {
	if len(outs) == 0 {
		return nil
	}
	n := 0
	for _, o := range outs {
		n += len(o.Logs)
	}
	logs := make([]audit.Entry, 0, n)
	for _, o := range outs {
		logs = append(logs, o.Logs...) // the calls were made whatever happens next: facts
	}
	rows, err := s.logRows(logs) // encoded before taking the writer, which others wait for
	if err != nil {
		return err
	}
	parts := partition(outs)
	// Outcomes are facts to record, so calls waiting together share one commit.
	return s.inTxCombined(ctx, func(tx *sql.Tx) error {
		if err := s.insertLogRows(ctx, tx, rows); err != nil {
			return err
		}
		for _, p := range parts {
			var err error
			switch p.kind {
			case store.WorkUser:
				err = s.finishUsers(ctx, tx, owner, p.appID, p.outs)
			case store.WorkGroup:
				err = s.finishGroups(ctx, tx, owner, p.appID, p.outs)
			default:
				err = fmt.Errorf("%w: no work of kind %q", directory.ErrInvalid, p.kind)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// outcomes are one app's outcomes of one kind.
type outcomes struct {
	appID int64
	kind  string
	outs  []*store.Outcome
}

// partition splits outs by app and kind, in the order they first appear.
func partition(outs []store.Outcome) []outcomes {
	var parts []outcomes
	for i := range outs {
		o := &outs[i]
		at := slices.IndexFunc(parts, func(p outcomes) bool { return p.appID == o.Item.AppID && p.kind == o.Item.Kind })
		if at < 0 {
			parts = append(parts, outcomes{appID: o.Item.AppID, kind: o.Item.Kind})
			at = len(parts) - 1
		}
		parts[at].outs = append(parts[at].outs, o)
	}
	return parts
}

func refIDs(outs []*store.Outcome) []int64 {
	ids := make([]int64, len(outs))
	for i, o := range outs {
		ids[i] = o.Item.RefID
	}
	return ids
}

// finishUsers records user outcomes. Items whose lease passed to another
// worker keep only their log entries: the new holder reads the app afresh.
func (s *DB) finishUsers(ctx context.Context, tx *sql.Tx, owner string, appID int64, outs []*store.Outcome) error {
	gens, err := s.ownedGenerations(ctx, tx, owner, appID, store.WorkUser, refIDs(outs))
	if err != nil {
		return err
	}
	var accts []*store.Account
	var obs []*store.Offboarding
	var forget, dropOb, recreated []int64
	for _, o := range outs {
		if _, owned := gens[o.Item.RefID]; !owned {
			continue
		}
		u := &o.User
		if u.MemberChanged {
			recreated = append(recreated, o.Item.RefID)
		}
		if u.Account != nil {
			accts = append(accts, u.Account)
		}
		if u.ForgetAccount {
			forget = append(forget, o.Item.RefID)
		}
		if u.Offboarding != nil {
			obs = append(obs, u.Offboarding)
		}
		if u.DropOffboarding {
			dropOb = append(dropOb, o.Item.RefID)
		}
	}
	if err := s.putAccounts(ctx, tx, accts); err != nil {
		return err
	}
	if err := s.putOffboardings(ctx, tx, obs); err != nil {
		return err
	}
	if err := s.execIDs(ctx, tx, `DELETE FROM app_accounts WHERE app_id = ? AND user_id IN `, []any{appID}, forget); err != nil {
		return err
	}
	if err := s.execIDs(ctx, tx, `DELETE FROM offboardings WHERE app_id = ? AND user_id IN `, []any{appID}, dropOb); err != nil {
		return err
	}
	if err := s.queueGroupsOf(ctx, tx, appID, recreated); err != nil {
		return err
	}
	return s.settle(ctx, tx, owner, appID, store.WorkUser, outs, gens, nil)
}

// finishGroups records group outcomes. Known state is stored whatever
// became of the lease: the calls were made. It is written before the items
// are locked, in the order the group push's other writers take them.
func (s *DB) finishGroups(ctx context.Context, tx *sql.Tx, owner string, appID int64, outs []*store.Outcome) error {
	final := map[int64]bool{}
	for _, o := range outs {
		forgotten, err := s.storeGroupState(ctx, tx, o)
		if err != nil {
			return err
		}
		final[o.Item.RefID] = forgotten // an unlinked group is gone whatever changed meanwhile
	}
	gens, err := s.ownedGenerations(ctx, tx, owner, appID, store.WorkGroup, refIDs(outs))
	if err != nil {
		return err
	}
	return s.settle(ctx, tx, owner, appID, store.WorkGroup, outs, gens, final)
}

// settle ends the items owner still holds, whatever their kind: an item
// changed while it was worked (unless final) is released to run again, a
// held one parked, a waiting one rescheduled without an attempt, a done one
// deleted, a failed one retried or made a task.
func (s *DB) settle(ctx context.Context, tx *sql.Tx, owner string, appID int64, kind string, outs []*store.Outcome, gens map[int64]int64, final map[int64]bool) error {
	var done, changed, held []int64
	for _, o := range outs {
		gen, owned := gens[o.Item.RefID]
		var err error
		switch {
		case !owned:
		case gen != o.Item.Generation && !final[o.Item.RefID]:
			changed = append(changed, o.Item.RefID)
		case o.Held:
			held = append(held, o.Item.RefID)
		case o.Wait && !o.GiveUp:
			err = s.waitItem(ctx, tx, owner, o)
		case o.Err == nil:
			done = append(done, o.Item.RefID)
		default:
			err = s.failItem(ctx, tx, owner, o)
		}
		if err != nil {
			return err
		}
	}
	if len(held) > 0 && kind != store.WorkUser {
		return fmt.Errorf("%w: %s items cannot be held", directory.ErrInvalid, kind)
	}
	if err := s.holdItems(ctx, tx, owner, appID, held); err != nil {
		return err
	}
	if err := s.execIDs(ctx, tx, `DELETE FROM work_items WHERE app_id = ? AND kind = ? AND lease_owner = ? AND ref_id IN `,
		[]any{appID, kind, owner}, done); err != nil {
		return err
	}
	return s.execIDs(ctx, tx, `UPDATE work_items SET lease_owner = '', lease_until = 0 WHERE app_id = ? AND kind = ? AND lease_owner = ? AND ref_id IN `,
		[]any{appID, kind, owner}, changed)
}

// ownedGenerations returns the current generation of the items owner still
// holds, and locks them.
func (s *DB) ownedGenerations(ctx context.Context, tx *sql.Tx, owner string, appID int64, kind string, ids []int64) (map[int64]int64, error) {
	out := make(map[int64]int64, len(ids))
	for start := 0; start < len(ids); start += s.idsPerStmt() {
		in, args := inIDs(s.d.Arrays, ids[start:min(start+s.idsPerStmt(), len(ids))])
		rows, err := s.queryPrepared(ctx, tx, s.q(`SELECT ref_id, generation FROM work_items WHERE app_id = ? AND kind = ? AND lease_owner = ? AND ref_id IN `+in+s.d.ForUpdate),
			append([]any{appID, kind, owner}, args...)...)
		if err != nil {
			return nil, fmt.Errorf("check leases: %w", err)
		}
		err = scanEach(rows, func(r scanner) error {
			var id, gen int64
			err := r.Scan(&id, &gen)
			out[id] = gen
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// execIDs runs query (ending in "IN ") for the IDs in chunks, binding head first.
func (s *DB) execIDs(ctx context.Context, tx *sql.Tx, query string, head []any, ids []int64) error {
	for start := 0; start < len(ids); start += s.idsPerStmt() {
		in, args := inIDs(s.d.Arrays, ids[start:min(start+s.idsPerStmt(), len(ids))])
		if _, err := s.execPrepared(ctx, tx, s.q(query+in), append(slices.Clip(head), args...)...); err != nil {
			return fmt.Errorf("finish work items: %w", err)
		}
	}
	return nil
}

// waitItem keeps an item queued until its RetryAt without counting an
// attempt; the error it waits on, if any, is its last error.
func (s *DB) waitItem(ctx context.Context, tx *sql.Tx, owner string, o *store.Outcome) error {
	last := ""
	if o.Err != nil {
		last = truncate(o.Err.Error(), 2000)
	}
	_, err := s.execPrepared(ctx, tx, s.q(`UPDATE work_items SET due_at = ?, last_error = ?, lease_owner = '', lease_until = 0
		WHERE app_id = ? AND kind = ? AND ref_id = ? AND lease_owner = ?`), nanos(o.RetryAt), last, o.Item.AppID, o.Item.Kind, o.Item.RefID, owner)
	if err != nil {
		return fmt.Errorf("reschedule waiting work item: %w", err)
	}
	return nil
}

// queueGroupsOf queues the app's pushed groups the users are in, so that
// they follow the users' new member ids.
func (s *DB) queueGroupsOf(ctx context.Context, tx *sql.Tx, appID int64, userIDs []int64) error {
	now := nanos(s.now())
	for start := 0; start < len(userIDs); start += s.idsPerStmt() {
		in, args := inIDs(s.d.Arrays, userIDs[start:min(start+s.idsPerStmt(), len(userIDs))])
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO work_items (app_id, kind, ref_id, reason, generation, created_at, due_at)
			SELECT p.app_id, 'group', p.group_id, 'account.recreated', 1, ?, ? FROM pushed_groups p
			WHERE p.app_id = ? AND p.unlink = 0 AND EXISTS (SELECT 1 FROM group_members m
				WHERE m.group_id = p.group_id AND m.user_id IN `+in+`)`+upsertWork), append([]any{now, now, appID}, args...)...)
		if err != nil {
			return fmt.Errorf("queue the pushed groups of re-created members: %w", err)
		}
	}
	return nil
}
