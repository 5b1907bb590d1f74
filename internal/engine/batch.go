package engine

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

// job is one claimed work item on its way through a batch.
type job struct {
	out     store.Outcome
	name    string // username (or last known email) for the log
	desired Desired
	known   *Known
	forget  bool
	err     error
	created bool // the create phase handled this job
	// settings are the app's, with the deactivation settings this user's
	// off-boarding is made under (see intents).
	settings app.Settings
	ob       *store.Offboarding // the user's off-boarding record, if any
	held     bool               // the deletion guard holds this job's off-boarding
	memberID string             // the account's member id when the job was loaded
	loaded   *store.Account     // the account as stored when the job was loaded
}

func (j *job) logf(a app.Instance, op, outcome, format string, args ...any) {
	j.out.Logs = append(j.out.Logs, logEntry(a, j.name, op, outcome, fmt.Sprintf(format, args...), nil))
}

// userReconciler works WorkUser items: an account per user and app.
type userReconciler struct{ e *Engine }

func (userReconciler) Kind() string { return store.WorkUser }

// Lanes: several batches at once, each as large as the call rate allows.
func (r userReconciler) Lanes(app.Instance) (int, int) {
	return r.e.cfg.Lanes, r.e.cfg.claimSize(r.e.cfg.RatePerApp)
}

func (r userReconciler) Reconcile(ctx context.Context, p *Pass, items []store.WorkItem) ([]store.Outcome, error) {
	return r.e.reconcileUsers(ctx, p.App, p.Conn, items)
}

// reconcileUsers plans and executes one batch of an app's user items.
func (e *Engine) reconcileUsers(ctx context.Context, a app.Instance, conn connector.Connector, items []store.WorkItem) ([]store.Outcome, error) {
	// Settings are read after the claim, so that any change saved before
	// the claimed work was queued is in force (a lane's copy can be a tick old).
	a, err := e.fresh(ctx, a)
	if err != nil {
		return nil, err
	}
	jobs, err := e.load(ctx, a, items)
	if err != nil {
		return nil, err
	}
	e.refresh(ctx, conn, jobs)
	e.intents(a, jobs, time.Now())
	e.guard(ctx, a, jobs)
	e.createPhase(ctx, a, conn, jobs)
	e.actionPhase(ctx, a, conn, jobs)
	outs := make([]store.Outcome, len(jobs))
	for i, j := range jobs {
		j.finish(a)
		j.out.Err = j.err
		outs[i] = j.out
	}
	return outs, nil
}

// load derives desired and known state for every item of a batch with three queries.
func (e *Engine) load(ctx context.Context, a app.Instance, items []store.WorkItem) ([]*job, error) {
	ids := make([]int64, len(items))
	for i, it := range items {
		ids[i] = it.RefID
	}
	users, err := e.st.UsersByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	roles, err := e.st.EffectiveRoles(ctx, a.ID, ids)
	if err != nil {
		return nil, err
	}
	accts, err := e.st.Accounts(ctx, a.ID, ids)
	if err != nil {
		return nil, err
	}
	obs, err := e.st.Offboardings(ctx, a.ID, ids)
	if err != nil {
		return nil, err
	}
	names := func(s string) string { return e.cfg.Kinds.NormalizeName(a.Kind, s) }
	jobs := make([]*job, len(items))
	for i, it := range items {
		j := &job{out: store.Outcome{Item: it}, settings: a.Settings}
		if ob, ok := obs[it.RefID]; ok {
			j.ob = &ob
		}
		var up *directory.User
		if u, ok := users[it.RefID]; ok {
			up, j.name = &u, u.Username
		}
		var rp *directory.Role
		if r, ok := roles[it.RefID]; ok {
			rp = &r
		}
		j.desired = Derive(up, rp, names)
		if acct, ok := accts[it.RefID]; ok {
			j.known, j.memberID, j.loaded = knownFrom(acct), acct.MemberID, &acct
			if j.name == "" {
				j.name = acct.Email
			}
		}
		jobs[i] = j
	}
	return jobs, nil
}

// refresh re-reads from the app the members about to be suspended or
// removed: what off-boarding does depends on their status (an invitee who
// accepted has files to transfer), and people accept invitations in Dropbox,
// not in Roster. A leaver Roster knows no account for is looked up by
// Roster's own external id, because a create whose answer was lost (or whose
// worker died) may have made one. One call covers the whole batch.
func (e *Engine) refresh(ctx context.Context, conn connector.Connector, jobs []*job) {
	var todo []*job
	var sel []connector.Selector
	for _, j := range jobs {
		comeback := j.desired.Want == WantActive && j.known != nil && j.known.Status == connector.StatusRemoved
		if comeback { // recoverable or not decides between recover and a new account
			sel = append(sel, connector.Selector{ID: j.known.MemberID})
			todo = append(todo, j)
			continue
		}
		if j.desired.Want != WantGone && j.desired.Want != WantSuspended {
			continue
		}
		switch {
		case j.known == nil:
			sel = append(sel, connector.Selector{ExternalID: ExternalID(j.out.Item.RefID)})
		case j.known.Status != connector.StatusRemoved:
			sel = append(sel, connector.Selector{ID: j.known.MemberID})
		default:
			continue
		}
		todo = append(todo, j)
	}
	if len(todo) == 0 {
		return
	}
	found, err := conn.GetMembers(ctx, sel)
	if err != nil {
		for _, j := range todo {
			j.err = err // off-boarding on stale state could withdraw instead of transfer: retry later
		}
		return
	}
	for i, j := range todo {
		m := found[i]
		if j.desired.Want == WantActive && m == nil {
			continue // get_info does not show removed members: keep what the last listing said
		}
		switch {
		case m != nil && (j.known != nil || m.Status != connector.StatusRemoved):
			silent := j.known != nil && j.known.Silent
			j.known = keepRemoval(j.known, knownFromMember(*m, silent))
		case j.known != nil:
			j.forget, j.known = true, nil
		}
	}
}

// recoverHold is how long after removed_at Roster counts a removed member as
// recoverable and keeps its record: Dropbox's 7-day window, which starts
// before removed_at (taken after Dropbox's answer), and an hour for clock
// corrections. A recover Dropbox refuses in that hour falls back to a new
// account (apply).
const recoverHold = 7*24*time.Hour + time.Hour

func knownFrom(a store.Account) *Known { return knownAt(a, time.Now()) }

// knownAt is the known state a record gives at now.
func knownAt(a store.Account, now time.Time) *Known {
	k := &Known{MemberID: a.MemberID, Email: a.Email, GivenName: a.GivenName, Surname: a.Surname, ExtID: a.ExternalID,
		Role: connector.Role(a.Role), Status: connector.MemberStatus(a.Status), Silent: a.Silent}
	if k.Status == connector.StatusRemoved {
		k.RemovedAt = a.RemovedAt
		k.Recoverable = a.Recoverable && now.Before(a.RemovedAt.Add(recoverHold))
	}
	return k
}

// keepRemoval carries the removal time of was over to fresh, a new read of
// the same removed member: Dropbox does not say when it removed it.
func keepRemoval(was, fresh *Known) *Known {
	if was != nil && was.Status == connector.StatusRemoved && fresh.Status == connector.StatusRemoved && was.MemberID == fresh.MemberID {
		fresh.RemovedAt = was.RemovedAt
	}
	return fresh
}

func knownFromMember(m connector.Member, silent bool) *Known {
	return &Known{MemberID: m.ID, Email: m.Email, GivenName: m.GivenName, Surname: m.Surname, ExtID: m.ExternalID,
		Role: m.Role, Status: m.Status, Silent: silent && m.Status == connector.StatusInvited, Recoverable: m.Recoverable}
}

// finish turns the job's known state into the outcome's account change.
func (j *job) finish(a app.Instance) {
	if j.held { // what the refresh read is still recorded
		j.out.Held, j.err = true, nil
	}
	switch {
	case j.forget:
		j.out.User.ForgetAccount = true
	case j.known != nil:
		acct := j.known.account(a.ID, j.out.Item.RefID, time.Now())
		if j.loaded != nil && sameAccount(*j.loaded, acct) {
			break // nothing to store: a sync that confirms 10,000 accounts writes none
		}
		j.out.User.Account = &acct
		// A new member for a user who had one: the pushed groups hold the old id.
		j.out.User.MemberChanged = j.memberID != "" && acct.MemberID != j.memberID
	}
}

// sameAccount says two records of an account hold the same facts; when
// they were written does not count.
func sameAccount(a, b store.Account) bool {
	if !a.RemovedAt.Equal(b.RemovedAt) {
		return false
	}
	a.UpdatedAt, b.UpdatedAt, a.RemovedAt, b.RemovedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return a == b
}

// account is the record of k. A removal Roster has no time for, one it
// found rather than made, dates from now: its recovery window ends no sooner.
func (k *Known) account(appID, userID int64, now time.Time) store.Account {
	acct := store.Account{AppID: appID, UserID: userID, MemberID: k.MemberID, Email: k.Email, GivenName: k.GivenName,
		Surname: k.Surname, ExternalID: k.ExtID, Role: string(k.Role), Status: string(k.Status), Silent: k.Silent}
	if k.Status == connector.StatusRemoved {
		acct.Recoverable, acct.RemovedAt = k.Recoverable, k.RemovedAt
		if acct.RemovedAt.IsZero() {
			acct.RemovedAt = now
		}
	}
	return acct
}

// parallel runs fn for each job with at most n at once.
func parallel(n int, jobs []*job, fn func(*job)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, n)
	for _, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			fn(j)
		}()
	}
	wg.Wait()
}
