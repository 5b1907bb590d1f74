-- A user's groups, read from the index alone: the per-user queries
-- (effective roles, the apps a user is assigned to, whether a leaver is
-- still assigned) start from the user's own memberships and probe the
-- app's assignment of each group, so that their cost follows the user's
-- groups rather than every group the app has assigned (issue 17).
CREATE INDEX group_members_by_user ON group_members(user_id, group_id);
DROP INDEX group_members_user;
