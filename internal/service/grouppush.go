package service

import (
	"context"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/store"
)

func (s *Service) groupPush() (store.GroupPush, error) {
	gp, ok := s.st.(store.GroupPush)
	if !ok {
		return nil, ErrNoGroupPush
	}
	return gp, nil
}

// Pushed is what pushing groups to an app did.
type Pushed struct {
	App    app.Instance
	Rule   store.GroupPushRule
	Groups []string // the groups the rule matches, pushed now
}

// PushGroups stores a push rule (a group or a name pattern) for the app and
// pushes the groups it matches now. Nothing reaches the app while its push
// groups feature is off: PushOff says so.
func (s *Service) PushGroups(ctx context.Context, by store.Actor, appName string, rule store.GroupPushRule) (Pushed, error) {
	if err := s.allow(ctx, by, "group.push", appName); err != nil {
		return Pushed{}, err
	}
	gp, err := s.groupPush()
	if err != nil {
		return Pushed{}, err
	}
	if err := rule.Validate(); err != nil {
		return Pushed{}, err
	}
	a, err := s.st.GetApp(ctx, appName)
	if err != nil {
		return Pushed{}, err
	}
	groups, err := gp.PushGroups(ctx, by, a.Name, &rule)
	return Pushed{App: a, Rule: rule, Groups: groups}, err
}

// UnpushGroups drops a push rule; groups no other rule covers are unlinked
// by the next sync, their group in the app deleted only if deleteInApp. It
// returns the groups being unlinked.
func (s *Service) UnpushGroups(ctx context.Context, by store.Actor, appName string, rule store.GroupPushRule, deleteInApp bool) ([]string, error) {
	if err := s.allow(ctx, by, "group.unpush", appName); err != nil {
		return nil, err
	}
	gp, err := s.groupPush()
	if err != nil {
		return nil, err
	}
	if err := rule.Validate(); err != nil {
		return nil, err
	}
	return gp.UnpushGroups(ctx, by, appName, rule, deleteInApp)
}

// GroupPushState is an app's push rules and pushed groups.
type GroupPushState struct {
	App    app.Instance
	Rules  []store.GroupPushRule
	Groups []store.PushedGroup
}

// GroupPushOf lists the app's push rules and its pushed groups with their
// state against the directory.
func (s *Service) GroupPushOf(ctx context.Context, appName string) (GroupPushState, error) {
	gp, err := s.groupPush()
	if err != nil {
		return GroupPushState{}, err
	}
	var v GroupPushState
	if v.App, err = s.st.GetApp(ctx, appName); err != nil {
		return v, err
	}
	if v.Rules, err = gp.ListGroupPushRules(ctx, v.App.ID); err != nil {
		return v, err
	}
	v.Groups, err = gp.ListPushedGroups(ctx, v.App.ID)
	return v, err
}

// PushOff tells the admin when an app's push rules cannot take effect yet.
func PushOff(a app.Instance) bool { return !a.Settings.Features.PushGroups }
