package dropbox

import (
	"context"
	"sync"

	"github.com/roster-dev/roster/internal/connector"
)

const (
	addRoute    = "members/add_v2"
	addJobRoute = "members/add/job_status/get_v2"
)

// newMemberArg is a MemberAddV2Arg.
type newMemberArg struct {
	Email            string   `json:"member_email"`
	GivenName        string   `json:"member_given_name,omitempty"`
	Surname          string   `json:"member_surname,omitempty"`
	ExternalID       string   `json:"member_external_id,omitempty"`
	SendWelcomeEmail bool     `json:"send_welcome_email"` // default true: always sent
	RoleIDs          []string `json:"role_ids,omitempty"`
}

// addItem is a MemberAddV2Result: success with the member flattened, or a
// failure tag whose value (the email) we already know from the input.
type addItem struct {
	Tag string `json:".tag"`
	memberInfo
	scanned *connector.Member // the member, when the scanner read the answer
}

// addAnswer is both the launch result and the job status of add_v2.
type addAnswer struct {
	Tag        string    `json:".tag"`
	Complete   []addItem `json:"complete"`
	AsyncJobID string    `json:"async_job_id"`
	Failed     string    `json:"failed"`
}

// AddMembers adds ms in batches of at most 20, a few batches at a time.
// Results are in input order; a failed call fails only its own batch's
// results. The error is for failures before anything could be sent.
func (c *Client) AddMembers(ctx context.Context, ms []connector.NewMember) ([]connector.AddResult, error) {
	res := make([]connector.AddResult, len(ms))
	args := make([]newMemberArg, len(ms))
	send := make([]int, 0, len(ms)) // indices of members that go out
	for i, m := range ms {
		res[i].Email = m.Email
		roles, err := c.roleIDsFor(ctx, m.Role)
		switch {
		case connector.KindOf(err) == connector.Permanent && connector.TagOf(err) == "role_not_found":
			res[i].Err = err // only this member asks for a role the team lacks
			continue
		case err != nil:
			return nil, err
		}
		args[i] = newMemberArg{Email: m.Email, GivenName: m.GivenName, Surname: m.Surname,
			ExternalID: m.ExternalID, SendWelcomeEmail: m.SendWelcomeEmail, RoleIDs: roles}
		send = append(send, i)
	}
	c.addAll(ctx, args, send, res)
	return res, nil
}

// addAll sends the batches with bounded concurrency; each batch writes only
// its own result slots, so order needs no further care.
func (c *Client) addAll(ctx context.Context, args []newMemberArg, send []int, res []connector.AddResult) {
	sem := make(chan struct{}, c.addConc)
	var wg sync.WaitGroup
	for lo := 0; lo < len(send); lo += addBatch {
		idx := send[lo:min(lo+addBatch, len(send))]
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			failAll(res, idx, &connector.Error{Kind: connector.Retryable, Op: addRoute, Msg: "not sent", Err: ctx.Err()})
			continue
		}
		wg.Go(func() {
			defer func() { <-sem }()
			c.addBatch(ctx, args, idx, res)
		})
	}
	wg.Wait()
}

func (c *Client) addBatch(ctx context.Context, args []newMemberArg, idx []int, res []connector.AddResult) {
	batch := make([]newMemberArg, len(idx))
	for k, i := range idx {
		batch[k] = args[i]
	}
	items, err := c.addCall(ctx, batch)
	switch {
	case err != nil && isBadRequest(err) && len(idx) > 1:
		// Nothing ran: resend one by one so one invalid entry fails alone.
		for _, i := range idx {
			c.addBatch(ctx, args, []int{i}, res)
		}
	case err != nil:
		failAll(res, idx, err)
	case len(items) != len(idx):
		failAll(res, idx, connector.Errorf(connector.Retryable, addRoute, "", "sent %d members, got %d results", len(idx), len(items)))
	default:
		for k, i := range idx {
			res[i].Member, res[i].Err = items[k].result(res[i].Email)
		}
	}
}

// addCall makes one add_v2 call and, when Dropbox answers with a job, polls it.
func (c *Client) addCall(ctx context.Context, batch []newMemberArg) ([]addItem, error) {
	in := struct {
		NewMembers []newMemberArg `json:"new_members"`
		ForceAsync bool           `json:"force_async"`
	}{batch, false}
	var a addAnswer
	if err := c.do(ctx, call{route: addRoute, in: in, out: &a}); err != nil {
		return nil, err
	}
	if a.Tag == "async_job_id" {
		job := a.AsyncJobID
		if err := c.poll(ctx, addJobRoute, job, &a, &a.Tag); err != nil {
			return nil, err
		}
	}
	switch a.Tag {
	case "complete":
		return a.Complete, nil
	case "failed":
		// Some members may have been added: the engine re-reads and links.
		return nil, connector.Errorf(connector.Retryable, addJobRoute, "failed", "%s", a.Failed)
	}
	return nil, connector.Errorf(connector.Retryable, addRoute, a.Tag, "unexpected result")
}

// result maps one item: success, or a per-member failure tag.
func (it *addItem) result(email string) (connector.Member, error) {
	if it.Tag == "success" {
		if it.scanned != nil {
			return *it.scanned, nil
		}
		return it.member(), nil
	}
	kind := connector.Permanent
	switch it.Tag {
	case "user_already_on_team", "duplicate_external_member_id":
		kind = connector.Conflict // the member exists: the engine links it
	}
	return connector.Member{}, &connector.Error{Kind: kind, Op: addRoute, Tag: it.Tag, Reason: reasonOfTag(it.Tag), Msg: email}
}

func failAll(res []connector.AddResult, idx []int, err error) {
	for _, i := range idx {
		res[i].Err = err
	}
}
