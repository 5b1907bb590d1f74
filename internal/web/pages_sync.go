package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/service"
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
	ID      string             // of the plan shown
	Digest  string             // its fingerprint; apply refuses a plan that changed
	Stopped *engine.GuardError // set when an apply was stopped by the guard
	Result  string
	Shown   string          // keys of the changes shown, space-separated
	New     map[string]bool // keys of changes not shown when the admin applied
	Gone    []string        // changes shown but since made by a worker, as "user: op"
	Held    int             // off-boardings the deletion guard holds
}

func (s *Server) plan(r *http.Request, a app.Instance, full bool) (planView, error) {
	p, err := s.svc.CreatePlan(r.Context(), actorOf(r), a.Name, full)
	if err != nil {
		return planView{App: a}, err
	}
	return s.planViewOf(r, a, p)
}

// planViewOf shows plan p; the form carries its id, fingerprint and keys,
// so that Apply applies exactly it on any server of a fleet.
func (s *Server) planViewOf(r *http.Request, a app.Instance, p service.Plan) (planView, error) {
	v := planView{App: a, Plan: p.Preview, ID: p.ID, Digest: p.Fingerprint, Shown: strings.Join(p.Keys, " ")}
	var err error
	if v.Held, err = s.svc.HeldCount(r.Context(), a.ID); err != nil {
		return v, err
	}
	for op, n := range p.Preview.Summary {
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

// apply applies the plan the admin previewed (service.ApplyPlan): if it
// changed since it was shown, it shows the new plan instead of applying it.
func (s *Server) apply(w http.ResponseWriter, r *http.Request) error {
	a, err := s.st.GetApp(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	shown := service.Plan{ID: r.PostForm.Get("plan"), App: a.Name, Full: r.PostForm.Get("full") == "1",
		Fingerprint: r.PostForm.Get("digest"), Keys: strings.Fields(r.PostForm.Get("shown"))}
	if shown.Keys == nil {
		shown.Keys = []string{}
	}
	allow := r.PostForm.Get("allow_deletes") == "1"
	if allow && r.PostForm.Get("reviewed") != "on" {
		v, err := s.plan(r, a, shown.Full)
		if err != nil {
			return err
		}
		return s.renderPlan(w, r, v, http.StatusUnprocessableEntity, "Tick the box to confirm you reviewed the suspensions and removals below.")
	}
	j := &job{What: "Apply the plan of " + a.Name, App: a.Name, AppID: a.ID, Back: appURL(a.Name) + "/plan"}
	return s.startJob(w, r, j, func(ctx context.Context, j *job) jobOutcome {
		res, err := s.svc.ApplyPlan(ctx, j.Actor, shown, allow)
		return s.applied(a, shown.Full, res, err)
	})
}

// applied is the outcome of applying a plan, as a job's outcome.
func (s *Server) applied(a app.Instance, full bool, res service.Applied, err error) jobOutcome {
	var se *service.StaleError
	var g *engine.GuardError
	switch {
	case errors.As(err, &se):
		return jobOutcome{Page: func(w http.ResponseWriter, r *http.Request) error { return s.stalePlan(w, r, a, se) }}
	case errors.As(err, &g):
		return jobOutcome{Page: func(w http.ResponseWriter, r *http.Request) error {
			v, err := s.plan(r, a, full)
			if err != nil {
				return err
			}
			v.Stopped = g
			return s.renderPlan(w, r, v, http.StatusConflict, "")
		}}
	case err != nil:
		return s.failedOutcome(err)
	case res.Elsewhere != nil: // the queued work is that worker's: nothing failed
		return jobOutcome{Kind: "ok", Msg: "Queued. " + res.Elsewhere.Error() + "."}
	}
	msg := syncSummary(res.Stats)
	if len(res.Made) > 0 {
		msg = fmt.Sprintf("%d of the changes shown were already made by a worker meanwhile; the rest were applied. ", len(res.Made)) + msg
	}
	return jobOutcome{Kind: "ok", Msg: msg}
}

// failedOutcome shows an error an admin can act on as a message on the page
// the job came from, and any other as an error page (logged there).
func (s *Server) failedOutcome(err error) jobOutcome {
	if errors.Is(err, directory.ErrInvalid) || errors.Is(err, directory.ErrConflict) || errors.Is(err, directory.ErrNotFound) ||
		errors.Is(err, directory.ErrInvalidTransition) || errors.Is(err, engine.ErrGuard) {
		return jobOutcome{Kind: "error", Msg: userMessage(err)}
	}
	return jobOutcome{Err: err}
}

// stalePlan shows the plan as it is now, marking what the admin was not
// shown and listing what a worker made meanwhile; nothing was applied.
func (s *Server) stalePlan(w http.ResponseWriter, r *http.Request, a app.Instance, se *service.StaleError) error {
	v, err := s.planViewOf(r, a, se.Plan)
	if err != nil {
		return err
	}
	v.New = map[string]bool{}
	for _, c := range se.New {
		v.New[service.ChangeKey(c)] = true
	}
	for _, m := range se.Made {
		v.Gone = append(v.Gone, m.User+": "+m.Op)
	}
	msg := fmt.Sprintf("The plan changed since you previewed it: %d new change(s), marked new below, were not shown to you", len(se.New))
	if len(se.Made) > 0 {
		msg += fmt.Sprintf("; %d of the changes shown were already made by a worker (listed below)", len(se.Made))
	}
	return s.renderPlan(w, r, v, http.StatusConflict, msg+". Nothing was applied; review this plan, then apply.")
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
	States   store.AccountStates
	Pending  int
	Tasks    int
	Failures int // failures logged in the last 24 hours
	LastSync *audit.Entry
	Held     int // off-boardings the deletion guard holds
	// Scheduled removals wait for their grace period; NextDue is the first.
	Scheduled int
	NextDue   time.Time
	Rate      engine.RateState
	Pace      *store.Pace // the call rate now and why, once a worker has saved it
	Queue     store.QueueStat
	Worker    workerHealth
}

// workerHealth says whether a worker is working the app: the holder of its
// lane, and whether its lease is still renewed.
type workerHealth struct {
	State string // working, stalled, none or off
	Owner string
	Until time.Time
	Text  string
}

type dashView struct {
	Apps  []appSummary
	Tasks int
	Jobs  []jobState
	Log   []audit.Entry
}

const failureWindow = 24 * time.Hour

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) error {
	apps, err := s.st.ListApps(r.Context())
	if err != nil {
		return err
	}
	lanes, err := s.st.Lanes(r.Context())
	if err != nil {
		return err
	}
	stats, err := s.st.QueueStats(r.Context())
	if err != nil {
		return err
	}
	var v dashView
	now := s.opt.Now()
	for _, a := range apps {
		sum, err := s.summary(r, a)
		if err != nil {
			return err
		}
		for _, q := range stats {
			if q.AppID == a.ID {
				sum.Queue = q
			}
		}
		sum.Worker = healthOf(a, lanes, now)
		v.Apps = append(v.Apps, sum)
		v.Tasks += sum.Tasks
	}
	for _, j := range s.jobs.running() {
		v.Jobs = append(v.Jobs, j.state(now))
	}
	if v.Log, err = s.st.ListLog(r.Context(), audit.Filter{Limit: 15}); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "dashboard", page{Title: "Dashboard", Nav: "dashboard", Data: v})
	return nil
}

// healthOf reads the app's lane: the worker holding it works the app.
func healthOf(a app.Instance, lanes []store.Lane, now time.Time) workerHealth {
	for _, l := range lanes {
		if l.AppID != a.ID || l.Owner == "" {
			continue
		}
		h := workerHealth{Owner: l.Owner, Until: l.Until}
		if l.Until.After(now) {
			h.State, h.Text = "working", "worked by "+l.Owner
		} else {
			h.State, h.Text = "stalled", l.Owner+" stopped renewing its hold on the app at "+l.Until.Local().Format("15:04:05")+"; another worker takes it over"
		}
		return h
	}
	switch {
	case !a.Settings.Provisioning:
		return workerHealth{State: "off", Text: "no worker: provisioning is off"}
	case !a.HasToken:
		return workerHealth{State: "off", Text: "no worker: not connected"}
	}
	return workerHealth{State: "none", Text: "no worker holds the app; is roster serve running with workers?"}
}

const pendingShown = 1000

func (s *Server) summary(r *http.Request, a app.Instance) (appSummary, error) {
	sum := appSummary{App: a, Rate: s.svc.RateState(a.ID)}
	p, ok, err := s.svc.CallRate(r.Context(), a.ID)
	if err != nil {
		return sum, err
	}
	if ok {
		sum.Pace = &p
	}
	if sum.States, err = s.st.AccountStates(r.Context(), a.ID); err != nil {
		return sum, err
	}
	sum.Members = sum.States.Active + sum.States.Invited + sum.States.Suspended
	if sum.Failures, err = s.st.CountLog(r.Context(), audit.Filter{App: a.Name, Outcome: audit.Failure, Since: s.opt.Now().Add(-failureWindow)}); err != nil {
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

// syncNow runs the app's queued work now, as a job: the dashboard's "Sync
// now". What the deletion guard holds stays held (the plan page releases it).
func (s *Server) syncNow(w http.ResponseWriter, r *http.Request) error {
	a, err := s.st.GetApp(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	j := &job{What: "Sync " + a.Name + " now", App: a.Name, AppID: a.ID, Back: "/"}
	return s.startJob(w, r, j, func(ctx context.Context, j *job) jobOutcome {
		res, err := s.svc.Sync(ctx, j.Actor, a.Name, service.SyncRequest{})
		var g *engine.GuardError
		switch {
		case errors.As(err, &g):
			return jobOutcome{Kind: "error", Msg: fmt.Sprintf("%s: the deletion guard stopped part of the sync: %d of %d members would be off-boarded. Review and release them on the plan page. %s",
				a.Name, g.Offboard, g.Members, syncSummary(res.Stats))}
		case err != nil:
			return s.failedOutcome(err)
		case res.Elsewhere != nil:
			return jobOutcome{Kind: "ok", Msg: a.Name + ": queued. " + res.Elsewhere.Error() + "."}
		}
		return jobOutcome{Kind: "ok", Msg: a.Name + ": " + syncSummary(res.Stats)}
	})
}
