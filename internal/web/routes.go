package web

// routes lists every UI route; the tests walk it to check that each one
// refuses a request without a session and each form one without its token.
func routes() []route {
	return []route{
		{"GET", "/signin", (*Server).signinPage, true},
		{"POST", "/signin", (*Server).signin, true},
		{"POST", "/signout", (*Server).signout, false},
		{"GET", "/{$}", (*Server).dashboard, false},

		{"GET", "/users", (*Server).usersPage, false},
		{"GET", "/users/new", (*Server).newUserPage, false},
		{"POST", "/users", (*Server).createUser, false},
		{"GET", "/users/{username}", (*Server).userPage, false},
		{"POST", "/users/{username}", (*Server).updateUser, false},
		{"POST", "/users/{username}/status/{action}", (*Server).changeStatus, false},
		{"POST", "/users/{username}/assign", (*Server).assignUser, false},
		{"POST", "/users/{username}/unassign", (*Server).unassignUser, false},
		{"POST", "/users/{username}/delete", (*Server).deleteUser, false},
		{"POST", "/users/{username}/keep", (*Server).keepUser, false},

		{"GET", "/groups", (*Server).groupsPage, false},
		{"POST", "/groups", (*Server).createGroup, false},
		{"GET", "/groups/{name}", (*Server).groupPage, false},
		{"POST", "/groups/{name}/members", (*Server).addMembers, false},
		{"POST", "/groups/{name}/members/remove", (*Server).removeMember, false},
		{"POST", "/groups/{name}/assign", (*Server).assignGroup, false},
		{"POST", "/groups/{name}/unassign", (*Server).unassignGroup, false},
		{"POST", "/groups/{name}/delete", (*Server).deleteGroup, false},

		{"GET", "/apps", (*Server).appsPage, false},
		{"POST", "/apps", (*Server).createApp, false},
		{"GET", "/apps/{name}", (*Server).appPage, false},
		{"POST", "/apps/{name}/settings", (*Server).saveSettings, false},
		{"POST", "/apps/{name}/oauth-client", (*Server).saveOAuthClient, false},
		{"POST", "/apps/{name}/oauth/start", (*Server).startOAuth, false},
		{"GET", "/oauth/callback", (*Server).oauthCallback, false},
		{"POST", "/apps/{name}/token", (*Server).saveToken, false},
		{"POST", "/apps/{name}/test", (*Server).testConnection, false},
		{"GET", "/apps/{name}/plan", (*Server).planPage, false},
		{"POST", "/apps/{name}/apply", (*Server).apply, false},
		{"POST", "/apps/{name}/release", (*Server).releaseHeld, false},
		{"POST", "/apps/{name}/reapply", (*Server).reapply, false},
		{"GET", "/apps/{name}/pending", (*Server).pendingPage, false},
		{"GET", "/apps/{name}/groups", (*Server).groupPushPage, false},
		{"GET", "/apps/{name}/import", (*Server).importPage, false},
		{"POST", "/apps/{name}/import/run", (*Server).runImport, false},
		{"POST", "/apps/{name}/import/confirm", (*Server).confirmImport, false},
		{"POST", "/apps/{name}/import/ignore", (*Server).ignoreImport, false},
		{"POST", "/apps/{name}/import/link", (*Server).linkImport, false},

		{"GET", "/tasks", (*Server).tasksPage, false},
		{"POST", "/tasks/retry", (*Server).retryTask, false},
		{"POST", "/tasks/dismiss", (*Server).dismissTask, false},
		{"GET", "/log", (*Server).logPage, false},

		{"GET", "/sources", (*Server).sourcesPage, false},
		{"POST", "/sources", (*Server).createSource, false},
		{"POST", "/sources/{name}/settings", (*Server).updateSource, false},
		{"POST", "/sources/{name}/rotate-token", (*Server).rotateSourceToken, false},
		{"POST", "/sources/{name}/remove", (*Server).removeSource, false},
		{"POST", "/sources/ldap", (*Server).createLDAPSource, false},
		{"POST", "/sources/{name}/sync", (*Server).syncSource, false},
	}
}
