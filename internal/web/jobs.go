package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"sync"
	"time"

	"github.com/roster-dev/roster/internal/store"
)

// Long work (apply, import, sync now) runs as a job in the background: the
// form starts it and, unless it ends within a moment, the browser is sent
// to the job's progress page, which reloads itself until the job is done
// and then shows where it ended. Jobs live in this server's memory only: a
// restart loses them (the work itself is in the system log), as the
// progress page says.

const (
	jobsKept   = 200             // finished jobs remembered, newest first
	jobTimeout = 2 * time.Hour   // a job is cancelled after this
	jobRefresh = 1 * time.Second // how often the progress page reloads
	jobWaitDef = 1500 * time.Millisecond
)

// jobOutcome is how a job ended: a message for the page it came from, or a
// page of its own (such as a plan stopped by the deletion guard).
type jobOutcome struct {
	Kind string // ok or error, for the flash message
	Msg  string
	To   string // where the message is shown; default the job's Back
	// Page, when set, renders the outcome itself (a plan that changed, an
	// import stopped by its safeguard); it runs on the request that reads it.
	Page func(w http.ResponseWriter, r *http.Request) error
	Err  error // an unexpected error, shown as an error page
}

// job is one piece of long work of one app.
type job struct {
	ID      string
	What    string // in words: "Apply the plan of dropbox"
	App     string
	AppID   int64
	Back    string // the page it was started from
	Actor   store.Actor
	Started time.Time

	mu      sync.Mutex
	members int // members listed so far (imports)
	done    bool
	ended   time.Time
	out     jobOutcome
	fin     chan struct{}
}

func (j *job) progress(members int) {
	j.mu.Lock()
	j.members = members
	j.mu.Unlock()
}

// jobState is a snapshot of a job for its page.
type jobState struct {
	ID, What, App, Back string
	Started             time.Time
	Elapsed             time.Duration
	Members             int
	Queued              int // the app's queued work now (apply and sync)
	Done                bool
}

func (j *job) state(now time.Time) jobState {
	j.mu.Lock()
	defer j.mu.Unlock()
	end := now
	if j.done {
		end = j.ended
	}
	return jobState{ID: j.ID, What: j.What, App: j.App, Back: j.Back, Started: j.Started,
		Elapsed: end.Sub(j.Started).Round(time.Second), Members: j.members, Done: j.done}
}

// jobRegistry holds this server's jobs.
type jobRegistry struct {
	mu    sync.Mutex
	byID  map[string]*job
	order []string // oldest first
}

func newJobRegistry() *jobRegistry { return &jobRegistry{byID: map[string]*job{}} }

func (g *jobRegistry) add(j *job) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.byID[j.ID] = j
	g.order = append(g.order, j.ID)
	// Forget the oldest finished jobs beyond the limit; running ones stay.
	for i := 0; len(g.order) > jobsKept && i < len(g.order); {
		old := g.byID[g.order[i]]
		if old.isDone() {
			delete(g.byID, old.ID)
			g.order = append(g.order[:i], g.order[i+1:]...)
			continue
		}
		i++
	}
}

func (g *jobRegistry) get(id string) (*job, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	j, ok := g.byID[id]
	return j, ok
}

// running lists the jobs not finished yet, oldest first.
func (g *jobRegistry) running() []*job {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []*job
	for _, id := range g.order {
		if j := g.byID[id]; !j.isDone() {
			out = append(out, j)
		}
	}
	return out
}

func (j *job) isDone() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.done
}

func newJobID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// startJob runs work in the background for the admin of r. If it ends
// within the server's job wait, its outcome is delivered at once; else the
// browser goes to the job's progress page.
func (s *Server) startJob(w http.ResponseWriter, r *http.Request, j *job, work func(ctx context.Context, j *job) jobOutcome) error {
	j.ID, j.Actor, j.Started, j.fin = newJobID(), actorOf(r), s.opt.Now(), make(chan struct{})
	s.jobs.add(j)
	// The job outlives the request: not cancelled with it, but bounded.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), jobTimeout)
	go func() {
		defer cancel()
		out := s.runJob(ctx, j, work)
		j.mu.Lock()
		j.done, j.ended, j.out = true, s.opt.Now(), out
		j.mu.Unlock()
		close(j.fin)
	}()
	t := time.NewTimer(s.opt.JobWait)
	defer t.Stop()
	select {
	case <-j.fin:
		return s.deliver(w, r, j)
	case <-t.C:
		http.Redirect(w, r, "/jobs/"+j.ID, http.StatusSeeOther)
		return nil
	}
}

// runJob runs work, turning a panic into an error outcome: nothing of a
// job may take the server down.
func (s *Server) runJob(ctx context.Context, j *job, work func(context.Context, *job) jobOutcome) (out jobOutcome) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("web job panic", "job", j.What, "panic", p)
			out = jobOutcome{Kind: "error", Msg: "The job failed on the server; the details are in the server log."}
		}
	}()
	return work(ctx, j)
}

// deliver shows a finished job's outcome.
func (s *Server) deliver(w http.ResponseWriter, r *http.Request, j *job) error {
	j.mu.Lock()
	out := j.out
	j.mu.Unlock()
	switch {
	case out.Page != nil:
		return out.Page(w, r)
	case out.Err != nil:
		return out.Err
	}
	to := out.To
	if to == "" {
		to = j.Back
	}
	s.redirect(w, r, to, out.Kind, out.Msg)
	return nil
}

type jobView struct {
	Job     jobState
	Refresh int // seconds
}

// jobPage shows a job's progress, reloading itself, and once it is done
// sends the browser on to its outcome.
func (s *Server) jobPage(w http.ResponseWriter, r *http.Request) error {
	j, ok := s.jobs.get(r.PathValue("id"))
	if !ok {
		s.renderError(w, r, http.StatusNotFound, "This job is not known to this server. Jobs are kept only while the server runs: if it was restarted, the job was lost (what it did is in the system log). Start it again if needed.")
		return nil
	}
	st := j.state(s.opt.Now())
	if st.Done {
		return s.deliver(w, r, j)
	}
	if j.AppID != 0 {
		work, err := s.st.PendingWork(r.Context(), j.AppID, pendingShown)
		if err != nil {
			return err
		}
		st.Queued = len(work)
	}
	s.render(w, r, http.StatusOK, "job", page{Title: j.What, Nav: navOf(j.Back), Refresh: int(jobRefresh / time.Second), Data: jobView{Job: st, Refresh: int(jobRefresh / time.Second)}})
	return nil
}
