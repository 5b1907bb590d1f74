package dropbox

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// Async jobs (reference §4.4). The change a job stands for is made when the
// job starts, as Dropbox makes it whether or not anyone polls; polling only
// reports it. A job answers in_progress for its first Polls polls.
type job struct {
	Kind   string          `json:"kind"`             // add, remove, group_delete
	Result json.RawMessage `json:"result,omitempty"` // add: the "complete" answer
	Polls  int             `json:"polls"`            // in_progress answers left
	Fail   bool            `json:"fail,omitempty"`   // ends in internal_error
	Member string          `json:"member,omitempty"` // remove: the removed member
	Dest   string          `json:"dest,omitempty"`   // remove: the transfer destination
	Group  string          `json:"group,omitempty"`  // group_delete: the group
}

func (j *job) running() bool { return j != nil && j.Polls > 0 }

const jobPrefix = "dbjid:"

// startJob registers a job and returns the launch answer {".tag":"async_job_id",…}.
func (t *Team) startJob(j *job) map[string]any {
	j.Polls, j.Fail = t.s.faults.jobOutcome()
	// The team id inside the job id lets groups/job_status/get tell another
	// team's job (access_denied) from an unknown one.
	id := jobPrefix + base64.RawURLEncoding.EncodeToString([]byte(t.id)) + "." + randomString(24)
	t.jobs[id] = j
	t.trackJob(j)
	return unionValue("async_job_id", id)
}

// trackJob marks what a running job holds: the members of a transfer and a deleted group.
func (t *Team) trackJob(j *job) {
	if !j.running() {
		return
	}
	for _, id := range []string{j.Member, j.Dest} {
		if id != "" {
			t.transfers[id] = j
		}
	}
	if g := t.groupByID[j.Group]; g != nil {
		g.deleting = j
	}
}

// transferring reports whether m's files are moving, to or from it.
func (t *Team) transferring(m *Member) bool { return t.transfers[m.ID].running() }

func jobTeam(id string) string {
	enc, _, ok := strings.Cut(strings.TrimPrefix(id, jobPrefix), ".")
	b, err := base64.RawURLEncoding.DecodeString(enc)
	if !ok || err != nil {
		return ""
	}
	return string(b)
}

// poll answers a job status route for jobs of kind.
func (c *call) poll(kind string) {
	var arg struct {
		ID *string `json:"async_job_id"`
	}
	if !c.decode(&arg) {
		return
	}
	if arg.ID == nil {
		c.bad(missing("async_job_id"))
		return
	}
	if *arg.ID == "" {
		c.bad(argErr("async_job_id: '' must be at least 1 characters, got 0"))
		return
	}
	j := c.t.jobs[*arg.ID]
	switch {
	case j == nil && kind == "group_delete" && strings.HasPrefix(*arg.ID, jobPrefix) && jobTeam(*arg.ID) != "" && jobTeam(*arg.ID) != c.t.id:
		c.fail("access_denied")
	case j == nil || j.Kind != kind:
		c.fail("invalid_async_job_id")
	case j.Polls > 0:
		j.Polls--
		c.reply(tagged{"in_progress"})
	case j.Fail:
		c.fail("internal_error")
	case j.Result != nil:
		c.reply(j.Result)
	default:
		c.reply(tagged{"complete"})
	}
}

func membersAddJobStatus(c *call)    { c.poll("add") }
func membersRemoveJobStatus(c *call) { c.poll("remove") }
func groupsJobStatus(c *call)        { c.poll("group_delete") }
