package web

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/store"
)

type opCount struct {
	Op    engine.Op
	Count int
}

type planView struct {
	App     app.Instance
	Plan    engine.Preview
	Ops     []opCount
	Digest  string             // of the changes shown; apply refuses if they changed
	Stopped *engine.GuardError // set when an apply was stopped by the guard
	Result  string
	Shown   string          // keys of the changes shown, space-separated
	New     map[string]bool // keys of changes not shown when the admin applied
	Gone    []string        // changes shown but since made by a worker, as "user: op"
	Held    int             // off-boardings the deletion guard holds
}

// changeKey names a change as shown, so that an apply can tell which
// changes were made meanwhile and which are new; where it stands (state,
// due time) is left out, since workers move it along.
func changeKey(c engine.Change) string {
	b, _ := json.Marshal(struct {
		C map[string][2]string
		D map[string]any
		S string
	}{c.Changes, c.Detail, c.Skipped})
	h := sha256.Sum256(b)
	return fmt.Sprintf("%d:%s:%s", c.UserID, c.Op, hex.EncodeToString(h[:4]))
}

// digest fingerprints a plan's changes, so "Apply" runs only what was shown.
func digest(p engine.Preview) string {
	b, _ := json.Marshal(p.Changes)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

func (s *Server) plan(r *http.Request, a app.Instance, full bool) (planView, error) {
	v := planView{App: a}
	if s.opt.Engine == nil {
		return v, fmt.Errorf("%w: this server runs no provisioning engine", directory.ErrInvalid)
	}
	p, err := s.opt.Engine.Plan(r.Context(), a, full)
	if err != nil {
		return v, err
	}
	v.Plan, v.Digest = p, digest(p)
	keys := make([]string, len(p.Changes))
	for i, c := range p.Changes {
		keys[i] = changeKey(c)
	}
	v.Shown = strings.Join(keys, " ")
	if v.Held, err = heldCount(r.Context(), s.st, a); err != nil {
		return v, err
	}
	for op, n := range p.Summary {
		v.Ops = append(v.Ops, opCount{op, n})
	}
	sort.Slice(v.Ops, func(i, k int) bool { return v.Ops[i].Op < v.Ops[k].Op })
	return v, nil
}

func (s *Server) planPage(w http.ResponseWriter, r *http.Request) error {
	a, err := s.st.GetApp(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	v, err := s.plan(r, a, r.URL.Query().Get("full") == "1")
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "plan", page{Title: "Plan: " + a.Name, Nav: "apps", Data: v})
	return nil
}

// apply runs the sync the admin previewed: the queued work, or with full
// every user the app holds or should hold. If the plan changed since it was
// shown, it shows the new plan instead of applying it.
func (s *Server) apply(w http.ResponseWriter, r *http.Request) error {
	a, err := s.st.GetApp(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	full := r.PostForm.Get("full") == "1"
	allow := r.PostForm.Get("allow_deletes") == "1"
	v, err := s.plan(r, a, full)
	if err != nil {
		return err
	}
	if allow && r.PostForm.Get("reviewed") != "on" {
		return s.renderPlan(w, r, v, http.StatusUnprocessableEntity, "Tick the box to confirm you reviewed the suspensions and removals below.")
	}
	made := 0
	if v.Digest != r.PostForm.Get("digest") {
		if made, err = s.sinceShown(r, &v, strings.Fields(r.PostForm.Get("shown"))); err != nil {
			return err
		}
		if len(v.New) > 0 {
			msg := fmt.Sprintf("The plan changed since you previewed it: %d new change(s), marked new below, were not shown to you", len(v.New))
			if made > 0 {
				msg += fmt.Sprintf("; %d of the changes shown were already made by a worker (listed below)", made)
			}
			return s.renderPlan(w, r, v, http.StatusConflict, msg+". Nothing was applied; review this plan, then apply.")
		}
	}
	return s.runSync(w, r, a, v, full, allow, made)
}

// sinceShown compares the plan with the changes shown: it marks the new ones
// in v and lists those gone (a worker made them meanwhile), and counts those.
func (s *Server) sinceShown(r *http.Request, v *planView, shown []string) (int, error) {
	now := map[string]bool{}
	for _, c := range v.Plan.Changes {
		now[changeKey(c)] = true
	}
	was := map[string]bool{}
	var goneIDs []int64
	var gone []string
	for _, k := range shown {
		was[k] = true
		if !now[k] {
			id, rest, _ := strings.Cut(k, ":")
			n, _ := strconv.ParseInt(id, 10, 64)
			goneIDs, gone = append(goneIDs, n), append(gone, rest)
		}
	}
	v.New = map[string]bool{}
	for k := range now {
		if !was[k] {
			v.New[k] = true
		}
	}
	users, err := s.st.UsersByID(r.Context(), goneIDs)
	if err != nil {
		return 0, err
	}
	for i, id := range goneIDs {
		name := users[id].Username
		if name == "" {
			name = fmt.Sprintf("user %d", id)
		}
		op, _, _ := strings.Cut(gone[i], ":")
		v.Gone = append(v.Gone, name+": "+op)
	}
	return len(goneIDs), nil
}

// runSync runs the sync; made is how many of the changes shown a worker
// made meanwhile, for the message.
func (s *Server) runSync(w http.ResponseWriter, r *http.Request, a app.Instance, v planView, full, allow bool, made int) error {
	if full {
		if _, err := s.st.EnqueueAll(r.Context(), a.ID, "sync.full"); err != nil {
			return err
		}
	}
	run := engine.Runner(s.opt.Engine)
	if s.opt.Runner != nil {
		run = s.opt.Runner
	}
	st, err := run.Sync(r.Context(), a, engine.SyncOptions{AllowDeletes: allow, Actor: actorOf(r)})
	var g *engine.GuardError
	if errors.As(err, &g) {
		v.Stopped = g
		return s.renderPlan(w, r, v, http.StatusConflict, "")
	}
	var le *engine.LaneElsewhereError
	if errors.As(err, &le) { // the queued work is that worker's: nothing failed
		s.redirect(w, r, appURL(a.Name)+"/plan", "ok", "Queued. "+le.Error()+".")
		return nil
	}
	if err != nil {
		return s.actionFailed(w, r, appURL(a.Name)+"/plan", err)
	}
	msg := syncSummary(st)
	if made > 0 {
		msg = fmt.Sprintf("%d of the changes shown were already made by a worker meanwhile; the rest were applied. ", made) + msg
	}
	s.redirect(w, r, appURL(a.Name)+"/plan", "ok", msg)
	return nil
}

func syncSummary(st engine.Stats) string {
	ops := make([]string, 0, len(st.Ops))
	for op, n := range st.Ops {
		ops = append(ops, fmt.Sprintf("%s %d", engine.OpLabel(op), n))
	}
	sort.Strings(ops)
	msg := fmt.Sprintf("Applied: %d item(s) done, %d retrying, %d became tasks.", st.Done, st.Retrying, st.Tasks)
	if len(ops) > 0 {
		msg += " Dropbox calls: " + strings.Join(ops, ", ") + "."
	}
	if st.Tasks > 0 {
		msg += " See Tasks."
	}
	return msg
}

func (s *Server) renderPlan(w http.ResponseWriter, r *http.Request, v planView, status int, msg string) error {
	s.render(w, r, status, "plan", page{Title: "Plan: " + v.App.Name, Nav: "apps", Error: msg, Data: v})
	return nil
}

type appSummary struct {
	App      app.Instance
	Members  int
	Pending  int
	Tasks    int
	LastSync *audit.Entry
	Held     int // off-boardings the deletion guard holds
	// Scheduled removals wait for their grace period; NextDue is the first.
	Scheduled int
	NextDue   time.Time
}

type dashView struct {
	Apps  []appSummary
	Tasks int
	Log   []audit.Entry
}

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) error {
	apps, err := s.st.ListApps(r.Context())
	if err != nil {
		return err
	}
	var v dashView
	for _, a := range apps {
		sum, err := s.summary(r, a)
		if err != nil {
			return err
		}
		v.Apps = append(v.Apps, sum)
		v.Tasks += sum.Tasks
	}
	if v.Log, err = s.st.ListLog(r.Context(), audit.Filter{Limit: 15}); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "dashboard", page{Title: "Dashboard", Nav: "dashboard", Data: v})
	return nil
}

const pendingShown = 1000

func (s *Server) summary(r *http.Request, a app.Instance) (appSummary, error) {
	sum := appSummary{App: a}
	var err error
	if sum.Members, err = s.st.CountAccounts(r.Context(), a.ID); err != nil {
		return sum, err
	}
	work, err := s.st.PendingWork(r.Context(), a.ID, pendingShown)
	if err != nil {
		return sum, err
	}
	sum.Pending = len(work)
	tasks, err := s.st.ListTasks(r.Context(), a.ID)
	if err != nil {
		return sum, err
	}
	sum.Tasks = len(tasks)
	last, err := s.st.ListLog(r.Context(), audit.Filter{App: a.Name, Actor: "engine", Limit: 1})
	if err != nil {
		return sum, err
	}
	if len(last) > 0 {
		sum.LastSync = &last[0]
	}
	obs, err := s.st.ListOffboardings(r.Context(), a.ID)
	if err != nil {
		return sum, err
	}
	for _, ob := range obs {
		if ob.Held {
			sum.Held++
		}
		if ob.Phase == store.PhaseGrace && !ob.Kept {
			sum.Scheduled++
			if sum.NextDue.IsZero() || ob.RemoveDue.Before(sum.NextDue) {
				sum.NextDue = ob.RemoveDue
			}
		}
	}
	return sum, nil
}

func (s *Server) groupPushPage(w http.ResponseWriter, r *http.Request) error {
	a, err := s.st.GetApp(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "grouppush", page{Title: "Group push: " + a.Name, Nav: "apps", Data: a})
	return nil
}
