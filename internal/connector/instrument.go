package connector

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"time"
)

// CallObserver is told about one app instance's remote calls, for metrics.
// It must be cheap and safe for concurrent use.
type CallObserver interface {
	// Call reports one connector call: its operation, how long it took
	// (pacing included) and its error, nil on success.
	Call(op string, took time.Duration, err error)
	// RateLimited reports one 429 answer, retried inside the connector or not.
	RateLimited(retryAfter time.Duration)
	// Failed reports an error that ended part of a call that itself
	// succeeded: one batch of an AddMembers.
	Failed(op string, err error)
}

// Outcome names a call's result for metrics: "ok", or the error's kind.
func Outcome(err error) string {
	if err == nil {
		return "ok"
	}
	return KindOf(err).String()
}

// StatusOf returns the HTTP status of an answer that made err, or 0. It reads
// it through an optional method so this package stays free of HTTP.
func StatusOf(err error) int {
	var s interface{ HTTPStatus() int }
	if errors.As(err, &s) {
		return s.HTTPStatus()
	}
	return 0
}

// InstrumentPacer counts every 429 an app answers: the connector tells its
// pacer about each one, including those it retries itself.
func InstrumentPacer(p Pacer, o CallObserver) Pacer { return observedPacer{p, o} }

type observedPacer struct {
	Pacer
	o CallObserver
}

func (p observedPacer) Pause(d time.Duration) {
	p.o.RateLimited(d)
	p.Pacer.Pause(d)
}

// Answered passes answers on to the pacer underneath.
func (p observedPacer) Answered(took time.Duration, status int) { Answered(p.Pacer, took, status) }

// Instrument wraps c so that every call is timed and its outcome reported.
func Instrument(c Connector, o CallObserver) Connector { return &observed{Connector: c, o: o} }

// observed embeds the connector, so a method added to Connector later
// passes through (untimed) until it is listed here.
type observed struct {
	Connector
	o CallObserver
}

// timed runs fn and reports it as op.
func (w *observed) timed(op string, fn func() error) error {
	start := time.Now()
	err := fn()
	w.o.Call(op, time.Since(start), err)
	return err
}

func (w *observed) TeamInfo(ctx context.Context) (t TeamInfo, err error) {
	err = w.timed("team_info", func() error { t, err = w.Connector.TeamInfo(ctx); return err })
	return t, err
}

func (w *observed) AuthenticatedAdmin(ctx context.Context) (m Member, err error) {
	err = w.timed("authenticated_admin", func() error { m, err = w.Connector.AuthenticatedAdmin(ctx); return err })
	return m, err
}

func (w *observed) AddMembers(ctx context.Context, ms []NewMember) (r []AddResult, err error) {
	err = w.timed("add_members", func() error { r, err = w.Connector.AddMembers(ctx, ms); return err })
	if err == nil {
		w.batchErrors(r)
	}
	return r, err
}

// batchErrors reports each failed batch once: its members share one error.
func (w *observed) batchErrors(r []AddResult) {
	seen := map[error]bool{}
	for _, res := range r {
		var e *Error
		if res.Err == nil || (errors.As(res.Err, &e) && e.Kind == Conflict) {
			continue // a member already on the team is an answer, not a failure
		}
		if reflect.TypeOf(res.Err).Comparable() { // a map key must be; others count each time
			if seen[res.Err] {
				continue
			}
			seen[res.Err] = true
		}
		w.o.Failed("add_members", res.Err)
	}
}

func (w *observed) GetMembers(ctx context.Context, sel []Selector) (r []*Member, err error) {
	err = w.timed("get_members", func() error { r, err = w.Connector.GetMembers(ctx, sel); return err })
	return r, err
}

func (w *observed) ListMembers(ctx context.Context, includeRemoved bool, page func([]Member) error) error {
	return w.timed("list_members", func() error { return w.Connector.ListMembers(ctx, includeRemoved, page) })
}

func (w *observed) SetProfile(ctx context.Context, id string, ch ProfileChange) (m Member, err error) {
	err = w.timed("set_profile", func() error { m, err = w.Connector.SetProfile(ctx, id, ch); return err })
	return m, err
}

func (w *observed) Remove(ctx context.Context, id string, opt RemoveOptions) error {
	return w.timed("remove", func() error { return w.Connector.Remove(ctx, id, opt) })
}

// The optional capabilities: each is forwarded when the connector underneath
// has it, so wrapping keeps them (Capable looks through Unwrap); without it,
// a call is refused as unsupported.

func (w *observed) SetRole(ctx context.Context, id string, role Role) error {
	c, err := capable[RoleSetter](w, "set_role")
	if err != nil {
		return err
	}
	return w.timed("set_role", func() error { return c.SetRole(ctx, id, role) })
}

func (w *observed) Suspend(ctx context.Context, id string, wipeData bool) error {
	c, err := capable[Suspender](w, "suspend")
	if err != nil {
		return err
	}
	return w.timed("suspend", func() error { return c.Suspend(ctx, id, wipeData) })
}

func (w *observed) Unsuspend(ctx context.Context, id string) error {
	c, err := capable[Suspender](w, "unsuspend")
	if err != nil {
		return err
	}
	return w.timed("unsuspend", func() error { return c.Unsuspend(ctx, id) })
}

func (w *observed) Recover(ctx context.Context, id string) error {
	c, err := capable[Recoverer](w, "recover")
	if err != nil {
		return err
	}
	return w.timed("recover", func() error { return c.Recover(ctx, id) })
}

func (w *observed) SendWelcomeEmail(ctx context.Context, id string) error {
	c, err := capable[WelcomeSender](w, "send_welcome_email")
	if err != nil {
		return err
	}
	return w.timed("send_welcome_email", func() error { return c.SendWelcomeEmail(ctx, id) })
}

func (w *observed) CreateGroup(ctx context.Context, name, externalID string) (g Group, err error) {
	c, err := capable[GroupPusher](w, "create_group")
	if err != nil {
		return Group{}, err
	}
	err = w.timed("create_group", func() error { g, err = c.CreateGroup(ctx, name, externalID); return err })
	return g, err
}

func (w *observed) ListGroups(ctx context.Context, page func([]Group) error) error {
	c, err := capable[GroupPusher](w, "list_groups")
	if err != nil {
		return err
	}
	return w.timed("list_groups", func() error { return c.ListGroups(ctx, page) })
}

func (w *observed) RenameGroup(ctx context.Context, id, name string) (g Group, err error) {
	c, err := capable[GroupPusher](w, "rename_group")
	if err != nil {
		return Group{}, err
	}
	err = w.timed("rename_group", func() error { g, err = c.RenameGroup(ctx, id, name); return err })
	return g, err
}

func (w *observed) DeleteGroup(ctx context.Context, id string) error {
	c, err := capable[GroupPusher](w, "delete_group")
	if err != nil {
		return err
	}
	return w.timed("delete_group", func() error { return c.DeleteGroup(ctx, id) })
}

func (w *observed) AddGroupMembers(ctx context.Context, groupID string, memberIDs []string) error {
	c, err := capable[GroupPusher](w, "add_group_members")
	if err != nil {
		return err
	}
	return w.timed("add_group_members", func() error { return c.AddGroupMembers(ctx, groupID, memberIDs) })
}

func (w *observed) RemoveGroupMembers(ctx context.Context, groupID string, memberIDs []string) error {
	c, err := capable[GroupPusher](w, "remove_group_members")
	if err != nil {
		return err
	}
	return w.timed("remove_group_members", func() error { return c.RemoveGroupMembers(ctx, groupID, memberIDs) })
}

func (w *observed) ListGroupMembers(ctx context.Context, groupID string, page func(memberIDs []string) error) error {
	c, err := capable[GroupPusher](w, "list_group_members")
	if err != nil {
		return err
	}
	return w.timed("list_group_members", func() error { return c.ListGroupMembers(ctx, groupID, page) })
}

// capable finds capability T under w, or refuses op as unsupported.
func capable[T any](w *observed, op string) (T, error) {
	c, ok := Capable[T](w.Connector)
	if !ok {
		return c, Refusef(Permanent, op, ErrUnsupported, "the app's connector cannot %s", strings.ReplaceAll(op, "_", " "))
	}
	return c, nil
}

// Unwrap returns the connector underneath, so Capable sees what it can do.
func (w *observed) Unwrap() Connector { return w.Connector }

func (w *observed) CheckTransfer(ctx context.Context, dest, admin string) (p []string, err error) {
	tc, ok := Capable[TransferChecker](w.Connector)
	if !ok {
		return nil, Refusef(Permanent, "check_transfer", ErrUnsupported, "the app cannot check transfer accounts")
	}
	err = w.timed("check_transfer", func() error { p, err = tc.CheckTransfer(ctx, dest, admin); return err })
	return p, err
}
