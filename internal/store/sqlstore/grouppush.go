package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

// Group push rules are matched in Go, not SQL: a glob has no portable SQL
// form across SQLite and PostgreSQL, and the rules of all apps are few.

// PushGroups stores or updates a rule and pushes every group it matches now.
func (s *DB) PushGroups(ctx context.Context, by store.Actor, appName string, r *store.GroupPushRule) ([]string, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	var matched []string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		a, err := s.getApp(ctx, tx, appName)
		if err != nil {
			return err
		}
		groups, err := s.groupsMatching(ctx, tx, r)
		if err != nil {
			return err
		}
		r.AppID, r.CreatedAt = a.ID, s.now().UTC()
		if err := s.upsertRule(ctx, tx, r); err != nil {
			return err
		}
		rules, err := s.pushRules(ctx, tx, a.ID)
		if err != nil {
			return err
		}
		for _, g := range groups {
			became, err := s.applyPush(ctx, tx, by, pushTarget{a.ID, a.Name, g.ID, g.Name, true}, rules[a.ID], false, "group.push")
			if err == nil && became == pushNone {
				// Pushing again is how an admin asks for a retry (a task, a clash fixed in Dropbox).
				err = s.enqueueGroup(ctx, tx, a.ID, g.ID, "group.push")
			}
			if err != nil {
				return err
			}
			matched = append(matched, g.Name)
		}
		return s.logChange(ctx, tx, by, "group.push", ruleKind(*r), ruleText(*r), a.Name,
			map[string]any{"link_existing": r.LinkExisting, "groups": capList(matched)})
	})
	return matched, err
}

func (s *DB) upsertRule(ctx context.Context, tx *sql.Tx, r *store.GroupPushRule) error {
	var created int64
	err := tx.QueryRowContext(ctx, s.q(`INSERT INTO group_push_rules (app_id, group_id, pattern, rule_key, link_existing, created_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (app_id, rule_key) DO UPDATE SET link_existing = excluded.link_existing
		RETURNING id, created_at`), r.AppID, r.GroupID, r.Pattern, r.Key(), boolInt(r.LinkExisting), nanos(r.CreatedAt)).Scan(&r.ID, &created)
	if err != nil {
		return fmt.Errorf("store push rule: %w", err)
	}
	r.CreatedAt = fromNanos(created)
	return nil
}

// groupsMatching lists the directory groups a rule covers and resolves a
// name rule's group; a rule naming a group that does not exist is refused,
// so a typo is not stored silently.
func (s *DB) groupsMatching(ctx context.Context, tx *sql.Tx, r *store.GroupPushRule) ([]directory.Group, error) {
	if r.Group != "" {
		g, err := s.getGroup(ctx, tx, r.Group)
		if err != nil {
			return nil, err
		}
		r.Group, r.GroupID = g.Name, g.ID
		return []directory.Group{g}, nil
	}
	rows, err := tx.QueryContext(ctx, s.q(`SELECT id, name FROM groups ORDER BY name_key`))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []directory.Group
	for rows.Next() {
		var g directory.Group
		if err := rows.Scan(&g.ID, &g.Name); err != nil {
			return nil, err
		}
		if r.Matches(g.ID, g.Name) {
			out = append(out, g)
		}
	}
	return out, rows.Err()
}

// UnpushGroups drops a rule and unlinks the groups no other rule covers.
func (s *DB) UnpushGroups(ctx context.Context, by store.Actor, appName string, r store.GroupPushRule, deleteInApp bool) ([]string, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	var unlinked []string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		a, err := s.getApp(ctx, tx, appName)
		if err != nil {
			return err
		}
		if r.Group != "" {
			g, err := s.getGroup(ctx, tx, r.Group)
			if err != nil {
				return err
			}
			r.Group, r.GroupID = g.Name, g.ID
		}
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM group_push_rules WHERE app_id = ? AND rule_key = ?`), a.ID, r.Key())
		if err != nil {
			return fmt.Errorf("drop push rule: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: no rule pushes %s %q to %s (list them with: roster groups pushed %s)", directory.ErrNotFound, ruleKind(r), ruleText(r), a.Name, a.Name)
		}
		if unlinked, err = s.repushApp(ctx, tx, by, a.ID, a.Name, r, deleteInApp); err != nil {
			return err
		}
		return s.logChange(ctx, tx, by, "group.unpush", ruleKind(r), ruleText(r), a.Name,
			map[string]any{"delete_in_app": deleteInApp, "unlinking": capList(unlinked)})
	})
	return unlinked, err
}

// repushApp applies an app's remaining rules to every group it pushes after
// the rule removed was dropped. deleteInApp reaches only the groups that
// rule covered: a group already being unlinked by an earlier removal keeps
// what that one asked (its Dropbox group left or deleted).
func (s *DB) repushApp(ctx context.Context, tx *sql.Tx, by store.Actor, appID int64, appName string, removed store.GroupPushRule, deleteInApp bool) ([]string, error) {
	rules, err := s.pushRules(ctx, tx, appID)
	if err != nil {
		return nil, err
	}
	targets, err := s.pushedTargets(ctx, tx, `p.app_id = ?`, appID)
	if err != nil {
		return nil, err
	}
	var unlinked []string
	for _, t := range targets {
		t.appName = appName
		became, err := s.applyPush(ctx, tx, by, t, rules[appID], deleteInApp && removed.Matches(t.groupID, t.group), "group.unpush")
		if err != nil {
			return nil, err
		}
		if became == pushUnlinking {
			unlinked = append(unlinked, t.group)
		}
	}
	return unlinked, nil
}

// pushTarget is one directory group in one app, as push rules see it.
type pushTarget struct {
	appID   int64
	appName string
	groupID int64
	group   string
	exists  bool // still in the directory
}

// pushedTargets lists pushed groups with their current directory names.
func (s *DB) pushedTargets(ctx context.Context, tx *sql.Tx, where string, arg int64) ([]pushTarget, error) {
	rows, err := tx.QueryContext(ctx, s.q(`SELECT p.app_id, a.name, p.group_id, COALESCE(g.name, p.group_name), CASE WHEN g.id IS NULL THEN 0 ELSE 1 END
		FROM pushed_groups p JOIN apps a ON a.id = p.app_id LEFT JOIN groups g ON g.id = p.group_id WHERE `+where+` ORDER BY p.app_id, p.group_id`), arg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []pushTarget
	for rows.Next() {
		var t pushTarget
		var exists int
		if err := rows.Scan(&t.appID, &t.appName, &t.groupID, &t.group, &exists); err != nil {
			return nil, err
		}
		t.exists = exists == 1
		out = append(out, t)
	}
	return out, rows.Err()
}

// pushRules loads the rules of one app, or of every app when appID is 0, by app.
func (s *DB) pushRules(ctx context.Context, q *sql.Tx, appID int64) (map[int64][]store.GroupPushRule, error) {
	rows, err := q.QueryContext(ctx, s.q(ruleSelect+` WHERE (? = 0 OR r.app_id = ?) ORDER BY r.id`), appID, appID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64][]store.GroupPushRule{}
	for rows.Next() {
		r, err := scanRule(rows)
		if err != nil {
			return nil, err
		}
		out[r.AppID] = append(out[r.AppID], r)
	}
	return out, rows.Err()
}

const ruleSelect = `SELECT r.id, r.app_id, r.group_id, COALESCE(g.name, ''), r.pattern, r.link_existing, r.created_at
	FROM group_push_rules r LEFT JOIN groups g ON g.id = r.group_id AND r.pattern = ''`

func scanRule(r scanner) (store.GroupPushRule, error) {
	var rule store.GroupPushRule
	var link int
	var created int64
	err := r.Scan(&rule.ID, &rule.AppID, &rule.GroupID, &rule.Group, &rule.Pattern, &link, &created)
	rule.LinkExisting, rule.CreatedAt = link == 1, fromNanos(created)
	return rule, err
}

// ListGroupPushRules lists an app's rules in the order they were made.
func (s *DB) ListGroupPushRules(ctx context.Context, appID int64) ([]store.GroupPushRule, error) {
	rows, err := s.db.QueryContext(ctx, s.q(ruleSelect+` WHERE r.app_id = ? ORDER BY r.id`), appID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.GroupPushRule
	for rows.Next() {
		r, err := scanRule(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// What applyPush made of a group.
const (
	pushNone = iota
	pushPushed
	pushUnlinking
)

type pushRow struct {
	name                 string
	link, unlink, delete bool
}

// applyPush brings one group's pushed-group record in one app in line with
// the app's rules, queueing the group when anything changed.
func (s *DB) applyPush(ctx context.Context, tx *sql.Tx, by store.Actor, t pushTarget, rules []store.GroupPushRule, deleteInApp bool, reason string) (int, error) {
	covered, link := false, false
	for _, r := range rules {
		if t.exists && r.Matches(t.groupID, t.group) {
			covered, link = true, link || r.LinkExisting
		}
	}
	var row pushRow
	var l, u, d int
	err := tx.QueryRowContext(ctx, s.q(`SELECT group_name, link_existing, unlink, delete_in_app FROM pushed_groups WHERE app_id = ? AND group_id = ?`+s.d.ForUpdate),
		t.appID, t.groupID).Scan(&row.name, &l, &u, &d)
	found := err == nil
	if err != nil && !isNoRows(err) {
		return pushNone, err
	}
	row.link, row.unlink, row.delete = l == 1, u == 1, d == 1
	switch {
	case covered && (!found || row.unlink):
		return pushPushed, s.startPush(ctx, tx, by, t, link, reason)
	case covered && (row.link != link || row.name != t.group):
		return pushPushed, s.setPushRow(ctx, tx, t, `group_name = ?, link_existing = ?`, reason, t.group, boolInt(link))
	case !covered && found && (!row.unlink || (deleteInApp && !row.delete)):
		return pushUnlinking, s.setPushRow(ctx, tx, t, `unlink = 1, delete_in_app = ?`, reason, boolInt(deleteInApp || (row.unlink && row.delete)))
	}
	return pushNone, nil
}

// startPush records a newly pushed group (or one pushed again while being
// unlinked), makes sure its members get accounts, and queues it.
func (s *DB) startPush(ctx context.Context, tx *sql.Tx, by store.Actor, t pushTarget, link bool, reason string) error {
	_, err := tx.ExecContext(ctx, s.q(`INSERT INTO pushed_groups (app_id, group_id, group_name, link_existing) VALUES (?, ?, ?, ?)
		ON CONFLICT (app_id, group_id) DO UPDATE SET group_name = excluded.group_name, link_existing = excluded.link_existing, unlink = 0, delete_in_app = 0`),
		t.appID, t.groupID, t.group, boolInt(link))
	if err != nil {
		return fmt.Errorf("push group %s: %w", t.group, err)
	}
	if err := s.ensureGroupAssigned(ctx, tx, by, t); err != nil {
		return err
	}
	return s.enqueueGroup(ctx, tx, t.appID, t.groupID, reason)
}

func (s *DB) setPushRow(ctx context.Context, tx *sql.Tx, t pushTarget, set, reason string, args ...any) error {
	if _, err := tx.ExecContext(ctx, s.q(`UPDATE pushed_groups SET `+set+` WHERE app_id = ? AND group_id = ?`), append(args, t.appID, t.groupID)...); err != nil {
		return fmt.Errorf("update pushed group %s: %w", t.group, err)
	}
	return s.enqueueGroup(ctx, tx, t.appID, t.groupID, reason)
}

// ensureGroupAssigned assigns a pushed group to its app with role member if
// it is not assigned yet: a group whose members hold no account could never
// be filled. The members are queued like any assignment's.
func (s *DB) ensureGroupAssigned(ctx context.Context, tx *sql.Tx, by store.Actor, t pushTarget) error {
	var n int
	if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM assignments WHERE app_id = ? AND group_id = ?`), t.appID, t.groupID).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	kind, err := s.appKind(ctx, tx, t.appID)
	if err != nil {
		return err
	}
	role, err := s.kinds.ParseRole(kind, "") // the kind's plain member
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO assignments (app_id, group_id, role, created_at) VALUES (?, ?, ?, ?)`),
		t.appID, t.groupID, role, nanos(s.now())); err != nil {
		return fmt.Errorf("assign pushed group %s: %w", t.group, err)
	}
	if err := s.enqueueGroupMembers(ctx, tx, t.appID, t.groupID, "group.push"); err != nil {
		return err
	}
	return s.logChange(ctx, tx, by, "assign", "group", t.group, t.appName,
		map[string]any{"role": role, "reason": "group pushed to the app: its members need accounts"})
}

// enqueueGroup writes (or refreshes) the work item of one pushed group.
func (s *DB) enqueueGroup(ctx context.Context, tx *sql.Tx, appID, groupID int64, reason string) error {
	now := nanos(s.now())
	_, err := tx.ExecContext(ctx, s.q(`INSERT INTO work_items (app_id, kind, ref_id, reason, generation, created_at, due_at)
		VALUES (?, 'group', ?, ?, 1, ?, ?)`+upsertWork), appID, groupID, reason, now, now)
	if err != nil {
		return fmt.Errorf("enqueue group %d in app %d: %w", groupID, appID, err)
	}
	return nil
}

// enqueuePushedGroup queues a directory group in every app it is pushed to,
// after a change of its members.
func (s *DB) enqueuePushedGroup(ctx context.Context, tx *sql.Tx, groupID int64, reason string) error {
	now := nanos(s.now())
	_, err := tx.ExecContext(ctx, s.q(`INSERT INTO work_items (app_id, kind, ref_id, reason, generation, created_at, due_at)
		SELECT app_id, 'group', group_id, ?, 1, ?, ? FROM pushed_groups WHERE group_id = ? AND unlink = 0`+upsertWork), reason, now, now, groupID)
	if err != nil {
		return fmt.Errorf("enqueue pushed group %d: %w", groupID, err)
	}
	return nil
}

// repushGroup applies every app's rules to one directory group after it was
// created, renamed or deleted.
func (s *DB) repushGroup(ctx context.Context, tx *sql.Tx, by store.Actor, groupID int64, name string, exists bool, reason string) error {
	rules, err := s.pushRules(ctx, tx, 0)
	if err != nil {
		return err
	}
	pushed, err := s.pushedTargets(ctx, tx, `p.group_id = ?`, groupID)
	if err != nil {
		return err
	}
	apps := map[int64]string{}
	for _, t := range pushed {
		apps[t.appID] = t.appName
	}
	for appID := range rules {
		if _, ok := apps[appID]; ok {
			continue
		}
		var appName string
		if err := tx.QueryRowContext(ctx, s.q(`SELECT name FROM apps WHERE id = ?`), appID).Scan(&appName); err != nil {
			return err
		}
		apps[appID] = appName
	}
	for appID, appName := range apps {
		t := pushTarget{appID, appName, groupID, name, exists}
		if _, err := s.applyPush(ctx, tx, by, t, rules[appID], false, reason); err != nil {
			return err
		}
	}
	return nil
}

func ruleKind(r store.GroupPushRule) string {
	if r.Group != "" {
		return "group"
	}
	return "group_pattern"
}

func ruleText(r store.GroupPushRule) string {
	if r.Group != "" {
		return r.Group
	}
	return r.Pattern
}

// capList keeps log details small when a pattern matches many groups.
func capList(names []string) any {
	if len(names) <= 50 {
		return names
	}
	return map[string]any{"first": names[:50], "total": len(names)}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
