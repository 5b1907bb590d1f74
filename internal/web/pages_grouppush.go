package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/service"
	"github.com/roster-dev/roster/internal/store"
)

// Group push (MISSION F7) in the UI: the app's pushed groups with their
// state, push rules, pushing by name or pattern, and unpushing, which
// leaves the Dropbox groups or, once confirmed, deletes them.

type pushedRow struct {
	store.PushedGroup
	StateText string
}

type groupPushView struct {
	App     app.Instance
	Off     bool // the push groups feature is off: nothing reaches Dropbox yet
	Rules   []store.GroupPushRule
	Groups  []pushedRow
	Dir     []directory.Group // directory groups, for the picker
	Group   string            // as typed, when pushing was refused
	Pattern string
}

func groupPushURL(name string) string { return appURL(name) + "/groups" }

func (s *Server) groupPushPage(w http.ResponseWriter, r *http.Request) error {
	v, err := s.groupPushView(r, r.PathValue("name"))
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "grouppush", page{Title: "Group push: " + v.App.Name, Nav: "apps", Data: v})
	return nil
}

func (s *Server) groupPushView(r *http.Request, name string) (groupPushView, error) {
	st, err := s.svc.GroupPushOf(r.Context(), name)
	if err != nil {
		return groupPushView{}, err
	}
	v := groupPushView{App: st.App, Off: service.PushOff(st.App), Rules: st.Rules}
	for _, g := range st.Groups {
		v.Groups = append(v.Groups, pushedRow{g, pushedState(g)})
	}
	v.Dir, err = s.st.ListGroups(r.Context(), store.Page{Limit: 1000})
	return v, err
}

// pushedState is a pushed group's state in words, with what drifted.
func pushedState(g store.PushedGroup) string {
	switch {
	case g.Unlink && g.DeleteInApp:
		return "unlinking: its Dropbox group is deleted at the next sync"
	case g.Unlink:
		return "unlinking: its Dropbox group is left as it is"
	case g.State == "in_step":
		return "in step"
	case g.State == "queued":
		return "queued for the next sync"
	case g.State == "task":
		return "failed: see Tasks"
	case g.State != "drifted" || g.Drift == nil:
		return g.State
	}
	var parts []string
	for _, c := range []struct {
		n    int
		what string
	}{{g.Drift.Missing, "missing"}, {g.Drift.Unexpected, "unexpected"}, {g.Drift.Stale, "stale"}} {
		if c.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c.n, c.what))
		}
	}
	return "drifted (" + strings.Join(parts, ", ") + "); a full sync repairs it"
}

// ruleOf reads a push rule from a form: a group name or a pattern.
func ruleOf(r *http.Request) store.GroupPushRule {
	f := r.PostForm
	rule := store.GroupPushRule{Group: strings.TrimSpace(f.Get("group")), Pattern: strings.TrimSpace(f.Get("pattern")), LinkExisting: f.Get("link_existing") == "on"}
	if f.Get("by") == "pattern" {
		rule.Group = ""
	} else if f.Get("by") == "group" {
		rule.Pattern = ""
	}
	return rule
}

func (s *Server) pushGroups(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	rule := ruleOf(r)
	res, err := s.svc.PushGroups(r.Context(), actorOf(r), name, rule)
	if err != nil {
		v, verr := s.groupPushView(r, name)
		if verr != nil {
			return verr
		}
		v.Group, v.Pattern = rule.Group, rule.Pattern
		return s.refused(w, r, explain(err), "grouppush", "Group push: "+v.App.Name, "apps", v)
	}
	msg := fmt.Sprintf("Pushing %d group(s): %s.", len(res.Groups), strings.Join(res.Groups, ", "))
	if len(res.Groups) == 0 {
		msg = "The rule is stored; no group matches it yet (groups created or renamed later to match are pushed then)."
	}
	if rule.LinkExisting {
		msg += " A Dropbox group of the same name is linked rather than reported as a clash."
	}
	if service.PushOff(res.App) {
		msg += " Push groups is off in Settings: nothing reaches Dropbox until it is on."
	} else {
		msg += " Changes reach Dropbox at the next sync."
	}
	s.redirect(w, r, groupPushURL(name), "ok", msg)
	return nil
}

// unpushConfirmView is the confirmation step of unpushing with deletion.
type unpushConfirmView struct {
	App    app.Instance
	Rule   store.GroupPushRule
	Groups []string // whose Dropbox groups would be deleted
	Typed  string
}

// unpushGroups drops a push rule. Leaving the Dropbox groups is reversible
// (push again to link them back) and happens at once; deleting them is
// not, so it first shows which groups would be deleted and asks for their
// count to be typed.
func (s *Server) unpushGroups(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	rule := ruleOf(r)
	del := r.PostForm.Get("delete_in_app") == "1"
	back := groupPushURL(name)
	if err := rule.Validate(); err != nil {
		return s.actionFailed(w, r, back, err)
	}
	if del {
		doomed, a, err := s.wouldDelete(r, name, rule)
		if err != nil {
			return s.actionFailed(w, r, back, err)
		}
		typed := strings.TrimSpace(r.PostForm.Get(typedField))
		if len(doomed) > 0 && typed != strconv.Itoa(len(doomed)) {
			p := page{Title: "Confirm: delete Dropbox groups of " + a.Name, Nav: "apps", Data: unpushConfirmView{App: a, Rule: rule, Groups: doomed, Typed: typed}}
			status := http.StatusOK
			if r.PostForm.Has(typedField) {
				status, p.Error = http.StatusUnprocessableEntity, fmt.Sprintf("Nothing was changed: type %d, the number of Dropbox groups to delete, exactly in the box to confirm.", len(doomed))
			}
			s.render(w, r, status, "unpush_confirm", p)
			return nil
		}
	}
	groups, err := s.svc.UnpushGroups(r.Context(), actorOf(r), name, rule, del)
	if err != nil {
		return s.actionFailed(w, r, back, explain(err))
	}
	what := "their Dropbox groups are left as they are"
	if del {
		what = "their Dropbox groups are deleted"
	}
	msg := fmt.Sprintf("Push rule removed. Unlinking %d group(s) at the next sync (%s): %s. Their assignments are kept: nobody loses an account.", len(groups), what, strings.Join(groups, ", "))
	if len(groups) == 0 {
		msg = "Push rule removed; every group it pushed is still pushed by another rule."
	}
	s.redirect(w, r, back, "ok", msg)
	return nil
}

// wouldDelete lists the pushed groups whose Dropbox group unpushing rule
// would delete: those it covers that no other rule does.
func (s *Server) wouldDelete(r *http.Request, name string, rule store.GroupPushRule) ([]string, app.Instance, error) {
	st, err := s.svc.GroupPushOf(r.Context(), name)
	if err != nil {
		return nil, st.App, err
	}
	var target *store.GroupPushRule
	for i, x := range st.Rules {
		if (rule.Pattern != "" && strings.EqualFold(x.Pattern, rule.Pattern)) || (rule.Group != "" && x.Pattern == "" && directory.Key(x.Group) == directory.Key(rule.Group)) {
			target = &st.Rules[i]
		}
	}
	if target == nil {
		return nil, st.App, fmt.Errorf("%w: %s has no push rule for %s", directory.ErrNotFound, st.App.Name, describeRule(rule))
	}
	var out []string
	for _, g := range st.Groups {
		if g.Unlink || g.RemoteID == "" || !target.Matches(g.GroupID, g.Group) {
			continue
		}
		other := false
		for _, x := range st.Rules {
			if x.ID != target.ID && x.Matches(g.GroupID, g.Group) {
				other = true
			}
		}
		if !other {
			out = append(out, g.Group)
		}
	}
	return out, st.App, nil
}

func describeRule(r store.GroupPushRule) string {
	if r.Pattern != "" {
		return "the pattern " + r.Pattern
	}
	return "the group " + r.Group
}
