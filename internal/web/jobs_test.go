package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
	"github.com/roster-dev/roster/internal/store/sqlstore"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// noJobWait sends every job to its progress page at once.
func noJobWait(o *Options) { o.JobWait = -1 }

// An import runs in the background: the form answers at once with the
// job's progress page, which counts the members listed and reloads itself
// until the job is done, then goes on to the import's review.
func TestImportRunsAsAJob(t *testing.T) {
	backends(t, func(t *testing.T, open func(testing.TB) *sqlstore.DB) {
		e := newEnv(t, open, noJobWait)
		e.addApp(t, "dropbox", false)
		var seed []emu.SeedMember
		for i := range 40 {
			seed = append(seed, emu.SeedMember{Email: fmt.Sprintf("m%02d@acme.example", i), GivenName: "M", Surname: fmt.Sprint(i), Status: "active"})
		}
		if _, err := e.emu.Team(team).Seed(seed); err != nil {
			t.Fatal(err)
		}
		e.emu.SetFaults(emu.Faults{Latency: 300 * time.Millisecond})
		c := e.client(t).signin()
		start := time.Now()
		r := c.post("/apps/dropbox/import", "/apps/dropbox/import/run", url.Values{})
		if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/jobs/") {
			t.Fatalf("starting an import: %d to %q", r.status, r.location)
		}
		if took := time.Since(start); took > 250*time.Millisecond {
			t.Fatalf("the form waited %s for the import", took)
		}
		job := r.location
		p := c.get(job)
		if p.status != http.StatusOK || !strings.Contains(p.body, `http-equiv="refresh"`) || !strings.Contains(p.body, "Import from dropbox") ||
			!strings.Contains(p.body, "if it restarts, a running job is lost") {
			t.Fatalf("progress page: %d\n%s", p.status, p.body)
		}
		if d := c.get("/"); !strings.Contains(d.body, job) {
			t.Fatal("the dashboard does not list the running job")
		}
		deadline := time.Now().Add(20 * time.Second)
		for p.status == http.StatusOK && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
			p = c.get(job)
		}
		if p.status != http.StatusSeeOther || p.location != "/apps/dropbox/import?state=review" {
			t.Fatalf("the finished job went to %d %q", p.status, p.location)
		}
		if body := c.get(p.location).body; !strings.Contains(body, "Imported: 41 member(s)") {
			t.Fatalf("review page after the job lacks its summary:\n%s", body)
		}
		if r := c.get("/jobs/0123abcd"); r.status != http.StatusNotFound || !strings.Contains(r.body, "if it was restarted, the job was lost") {
			t.Fatalf("unknown job: %d", r.status)
		}
	})
}

// A short job ends within the form's wait: the admin goes straight on.
func TestShortJobAnswersAtOnce(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite)
	e.addApp(t, "dropbox", true)
	c := e.client(t).signin()
	r := c.post("/", "/apps/dropbox/sync", url.Values{})
	if r.status != http.StatusSeeOther || r.location != "/" {
		t.Fatalf("sync now: %d to %q", r.status, r.location)
	}
	if body := c.get("/").body; !strings.Contains(body, "dropbox: Applied: 0 item(s) done") {
		t.Fatalf("dashboard after sync now:\n%s", body)
	}
}

// The registry forgets the oldest finished jobs beyond its limit, never a
// running one.
func TestJobRegistryKeepsRunningJobs(t *testing.T) {
	g := newJobRegistry()
	running := &job{ID: "running"}
	g.add(running)
	for i := range jobsKept + 10 {
		g.add(&job{ID: fmt.Sprint("done-", i), done: true})
	}
	if _, ok := g.get("running"); !ok {
		t.Fatal("a running job was forgotten")
	}
	if _, ok := g.get("done-0"); ok {
		t.Fatal("the oldest finished job was kept beyond the limit")
	}
	if _, ok := g.get(fmt.Sprint("done-", jobsKept+9)); !ok {
		t.Fatal("the newest finished job was forgotten")
	}
	if len(g.byID) != jobsKept || len(g.running()) != 1 {
		t.Fatalf("kept %d jobs, %d running", len(g.byID), len(g.running()))
	}
}
