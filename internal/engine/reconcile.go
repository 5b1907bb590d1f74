package engine

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

// Drift is an account that differs in the app from what Roster knew: changed,
// suspended or removed there directly, or made by a create whose answer was lost.
type Drift struct {
	User     string               `json:"user"`
	UserID   int64                `json:"user_id"`
	MemberID string               `json:"member_id"`
	Changes  map[string][2]string `json:"changes"` // field -> [known, actual]
}

// Stranger is a member of the team that no directory user accounts for.
// Roster reports it and leaves it alone; import can adopt it.
type Stranger struct {
	MemberID string `json:"member_id"`
	Email    string `json:"email"`
	Status   string `json:"status"`
}

// Survey is what listing the whole team found (MISSION E4).
type Survey struct {
	Members  int        `json:"members"` // listed and not removed
	Drifted  []Drift    `json:"drifted"`
	Unknown  []Stranger `json:"unknown"`
	Vanished []Drift    `json:"vanished"` // known accounts the team no longer lists at all

	actual map[int64]*Known // corrected known state by user; nil: the account is gone
	silent map[int64]bool
}

// survey lists every member of the team, removed ones included, and
// compares each with the account Roster knows. It calls no write route.
func (e *Engine) survey(ctx context.Context, a app.Instance, conn connector.Connector) (*Survey, error) {
	known, err := e.knownAccounts(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	byMember := make(map[string]*store.Account, len(known))
	for i := range known {
		byMember[known[i].MemberID] = &known[i]
	}
	sv := &Survey{Drifted: []Drift{}, Unknown: []Stranger{}, Vanished: []Drift{}, actual: map[int64]*Known{}, silent: map[int64]bool{}}
	seen := make(map[int64]bool, len(known))
	err = conn.ListMembers(ctx, true, func(ms []connector.Member) error {
		for _, m := range ms {
			if m.Status != connector.StatusRemoved {
				sv.Members++
			}
			sv.compare(m, byMember, seen)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list the team: %w", err)
	}
	for _, acct := range known {
		if !seen[acct.UserID] && acct.Status != string(connector.StatusRemoved) {
			sv.actual[acct.UserID] = nil
			sv.Vanished = append(sv.Vanished, Drift{UserID: acct.UserID, MemberID: acct.MemberID, User: acct.Email,
				Changes: map[string][2]string{"status": {acct.Status, "deleted"}}})
		}
	}
	sort.Slice(sv.Drifted, func(i, k int) bool { return sv.Drifted[i].UserID < sv.Drifted[k].UserID })
	sort.Slice(sv.Unknown, func(i, k int) bool { return sv.Unknown[i].Email < sv.Unknown[k].Email })
	return sv, nil
}

// compare files one listed member as in step, drifted, adopted or unknown.
func (sv *Survey) compare(m connector.Member, byMember map[string]*store.Account, seen map[int64]bool) {
	if acct, ok := byMember[m.ID]; ok {
		seen[acct.UserID] = true
		was := knownFrom(*acct)
		now := keepRemoval(was, knownFromMember(m, acct.Silent))
		if ch := knownDiff(was, now); len(ch) > 0 {
			sv.actual[acct.UserID] = now
			sv.Drifted = append(sv.Drifted, Drift{User: acct.Email, UserID: acct.UserID, MemberID: m.ID, Changes: ch})
		}
		return
	}
	// A member carrying Roster's external id was made by Roster: a create
	// whose answer was lost. Adopt it rather than report it.
	if id, ok := rosterID(m.ExternalID); ok && m.Status != connector.StatusRemoved {
		if _, dup := sv.actual[id]; !dup {
			sv.actual[id] = knownFromMember(m, false)
			sv.Drifted = append(sv.Drifted, Drift{User: m.Email, UserID: id, MemberID: m.ID,
				Changes: map[string][2]string{"member_id": {"", m.ID}}})
			return
		}
	}
	if m.Status != connector.StatusRemoved {
		sv.Unknown = append(sv.Unknown, Stranger{MemberID: m.ID, Email: m.Email, Status: string(m.Status)})
	}
}

// knownDiff lists the fields where the app's member differs from the shadow.
func knownDiff(was, now *Known) map[string][2]string {
	ch := map[string][2]string{}
	add := func(field, a, b string) {
		if a != b {
			ch[field] = [2]string{a, b}
		}
	}
	if directory.Key(was.Email) != directory.Key(now.Email) {
		add("email", was.Email, now.Email)
	}
	add("given_name", was.GivenName, now.GivenName)
	add("surname", was.Surname, now.Surname)
	add("external_id", was.ExtID, now.ExtID)
	add("role", string(was.Role), string(now.Role))
	add("status", string(was.Status), string(now.Status))
	if was.Status == connector.StatusRemoved && now.Status == connector.StatusRemoved && was.Recoverable != now.Recoverable {
		add("recoverable", strconv.FormatBool(was.Recoverable), strconv.FormatBool(now.Recoverable))
	}
	return ch
}

// actualOf returns the corrected known state of a user, if the survey has one.
func (sv *Survey) actualOf(userID int64) (*Known, bool) {
	if sv == nil {
		return nil, false
	}
	k, ok := sv.actual[userID]
	return k, ok
}

func rosterID(ext string) (int64, bool) {
	rest, ok := strings.CutPrefix(ext, "roster:")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	return id, err == nil && id > 0
}

func (e *Engine) knownAccounts(ctx context.Context, appID int64) ([]store.Account, error) {
	var out []store.Account
	p := store.Page{Limit: 10000}
	for {
		page, err := e.st.ListAccounts(ctx, appID, p)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(page) < p.Limit {
			return out, nil
		}
		p.After = page[len(page)-1].UserID
	}
}

// record stores the survey's corrections as Roster's known state, so the
// planner repairs drift like any other difference, and imports the
// attributes whose source is the app into the directory (MISSION F6).
func (e *Engine) record(ctx context.Context, a app.Instance, sv *Survey) error {
	var put []store.Account
	var forget []int64
	var logs []audit.Entry
	now := time.Now()
	for _, d := range append(append([]Drift{}, sv.Drifted...), sv.Vanished...) {
		k := sv.actual[d.UserID]
		detail := map[string]any{"member_id": d.MemberID}
		for f, v := range d.Changes {
			detail[f] = map[string]string{"known": v[0], "actual": v[1]}
		}
		logs = append(logs, audit.Entry{Actor: "engine", Action: "reconcile.drift", TargetKind: "user", Target: d.User, App: a.Name,
			Outcome: audit.Success, Message: "the app differs from what Roster knew", Detail: detail})
		if k == nil {
			forget = append(forget, d.UserID)
			continue
		}
		put = append(put, k.account(a.ID, d.UserID, now))
	}
	if err := e.st.CorrectAccounts(ctx, a.ID, put, forget, logs); err != nil {
		return fmt.Errorf("record what the app holds: %w", err)
	}
	return e.importOwned(ctx, a, sv)
}

// importOwned copies app-owned attributes that changed in the app into the directory.
func (e *Engine) importOwned(ctx context.Context, a app.Instance, sv *Survey) error {
	fields := map[string]string{"email": "email", "given_name": "first_name", "surname": "last_name"}
	for _, d := range sv.Drifted {
		k := sv.actual[d.UserID]
		var set []string
		for f, attr := range fields {
			if _, ok := d.Changes[f]; ok && a.Settings.Import.FromApp(attr) {
				set = append(set, f)
			}
		}
		if k == nil || len(set) == 0 {
			continue
		}
		users, err := e.st.UsersByID(ctx, []int64{d.UserID})
		if err != nil {
			return err
		}
		u, ok := users[d.UserID]
		if !ok {
			continue
		}
		_, err = e.st.UpdateUser(ctx, store.Actor("app:"+a.Name), u.Username, "user.import_profile", func(u *directory.User) error {
			for _, f := range set {
				switch f {
				case "email":
					u.Email = k.Email
				case "given_name":
					u.FirstName = k.GivenName
				case "surname":
					u.LastName = k.Surname
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("import %s's profile from %s: %w", u.Username, a.Name, err)
		}
	}
	return nil
}

// ReconcileResult is what a full reconciliation found and did.
type ReconcileResult struct {
	Survey *Survey `json:"reconcile"`
	Queued int     `json:"queued"`
	Stats  Stats   `json:"stats"`
}

// Reconcile lists the whole team, records what it holds as Roster's known
// state, queues every user whose plan is not empty and syncs (MISSION E4).
// Drift in attributes the directory owns is put back; attributes the app
// owns are imported; unknown members are reported and left alone. The
// deletion guard applies as in any sync.
func (e *Engine) Reconcile(ctx context.Context, a app.Instance, opt SyncOptions) (res ReconcileResult, err error) {
	if err := provisioning(a); err != nil {
		return res, err
	}
	// Logged whatever happens: the entry also dates the next scheduled one,
	// so a failing team is not listed again at every pass.
	defer func() { e.logFull(ctx, a, res, err) }()
	conn, err := e.connect(ctx, a, e.pacer(a.ID))
	if err != nil {
		return res, err
	}
	t0 := time.Now()
	if res.Survey, err = e.survey(ctx, a, conn); err != nil {
		return res, err
	}
	t1 := time.Now()
	if err := e.record(ctx, a, res.Survey); err != nil {
		return res, err
	}
	if err := e.verifyGroups(ctx, a, conn); err != nil { // group push: groupverify.go
		return res, err
	}
	p, err := e.plan(ctx, a, true, nil) // the known state is now what the app holds
	if err != nil {
		return res, err
	}
	t2 := time.Now()
	defer func() {
		e.log.Info("full sync", "app", a.Name, "list", t1.Sub(t0), "plan", t2.Sub(t1), "sync", time.Since(t2))
	}()
	var ids []int64
	for _, c := range p.Changes {
		if c.Skipped == "" {
			ids = append(ids, c.UserID)
		}
	}
	if err := e.st.EnqueueUsers(ctx, a.ID, ids, "sync.full"); err != nil {
		return res, err
	}
	res.Queued = len(ids)
	res.Stats, err = e.Sync(ctx, a, opt)
	return res, err
}

// logFull records the reconciliation, which also dates the next scheduled one.
func (e *Engine) logFull(ctx context.Context, a app.Instance, res ReconcileResult, err error) {
	if res.Survey == nil {
		res.Survey = &Survey{}
	}
	en := audit.Entry{Actor: "engine", Action: "sync.full", TargetKind: "app", Target: a.Name, App: a.Name, Outcome: audit.Success,
		Message: fmt.Sprintf("listed %d members: %d drifted, %d gone, %d unknown; %d users queued",
			res.Survey.Members, len(res.Survey.Drifted), len(res.Survey.Vanished), len(res.Survey.Unknown), res.Queued),
		Detail: map[string]any{"members": res.Survey.Members, "drifted": len(res.Survey.Drifted), "vanished": len(res.Survey.Vanished),
			"unknown": len(res.Survey.Unknown), "queued": res.Queued, "ops": res.Stats.Ops}}
	if err != nil {
		en.Outcome, en.Message = audit.Failure, en.Message+": "+err.Error()
	}
	if lerr := e.st.AppendLog(context.WithoutCancel(ctx), en); lerr != nil {
		e.log.Error("log full sync", "app", a.Name, "err", lerr)
	}
}

// FullSyncDue reports whether the app needs a full reconciliation now: an
// admin asked for one since the last (RequestFullSync), or the schedule is
// set and the last one is older than it.
func (e *Engine) FullSyncDue(ctx context.Context, a app.Instance) (bool, error) {
	if !a.Settings.Provisioning {
		return false, nil
	}
	last, err := e.st.ListLog(ctx, audit.Filter{Action: "sync.full", App: a.Name, Limit: 1})
	if err != nil {
		return false, err
	}
	asked, err := e.st.ListLog(ctx, audit.Filter{Action: fullSyncRequest, App: a.Name, Limit: 1})
	if err != nil {
		return false, err
	}
	if len(asked) > 0 && (len(last) == 0 || asked[0].ID > last[0].ID) {
		return true, nil
	}
	every := a.Settings.FullSync.Interval()
	return every > 0 && (len(last) == 0 || time.Since(last[0].At) >= every), nil
}

const fullSyncRequest = "sync.full.request"

// RequestFullSync asks whichever worker holds the app's lane to run a full
// reconciliation at its next pass: a process that may not call the app
// itself (its lane is another worker's) records the request in the log.
func RequestFullSync(ctx context.Context, log interface {
	AppendLog(context.Context, audit.Entry) error
}, by store.Actor, a app.Instance) error {
	return log.AppendLog(ctx, audit.Entry{Actor: string(by), Action: fullSyncRequest, TargetKind: "app", Target: a.Name,
		App: a.Name, Outcome: audit.Success, Message: "full sync requested from a process that does not hold the app's lane"})
}
