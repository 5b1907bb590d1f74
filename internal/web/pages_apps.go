package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/credential"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/service"
)

type appsView struct {
	Apps          []app.Instance
	Name, BaseURL string
}

func (s *Server) appsPage(w http.ResponseWriter, r *http.Request) error {
	apps, err := s.st.ListApps(r.Context())
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "apps", page{Title: "Apps", Nav: "apps", Data: appsView{Apps: apps, BaseURL: app.DefaultDropboxURL}})
	return nil
}

func (s *Server) createApp(w http.ResponseWriter, r *http.Request) error {
	name, base := r.PostForm.Get("name"), r.PostForm.Get("base_url")
	a, err := s.svc.CreateApp(r.Context(), actorOf(r), service.AppChange{Name: &name, BaseURL: &base})
	if err != nil {
		apps, lerr := s.st.ListApps(r.Context())
		if lerr != nil {
			return lerr
		}
		return s.refused(w, r, err, "apps", "Apps", "apps", appsView{Apps: apps, Name: a.Name, BaseURL: a.BaseURL})
	}
	s.redirect(w, r, appURL(a.Name), "ok", "App "+a.Name+" added. Next: connect it to Dropbox, then enable provisioning.")
	return nil
}

func appURL(name string) string { return "/apps/" + url.PathEscape(name) }

// mapping is one row of the attribute mapping table.
type mapping struct{ From, To, Note, Attr string }

// mappings are fixed by the connector; the admin chooses only which of them
// Dropbox is the source of (imported instead of pushed).
var mappings = []mapping{
	{"email", "email", "also the key that links an existing member", "email"},
	{"first_name", "given_name", "", "first_name"},
	{"last_name", "surname", "", "last_name"},
	{"roster:<user id>", "external_id", "set by Roster, so a member can be found again", ""},
	{"assignment role", "permissions (admin role)", "member, team admin, user management admin, support admin", ""},
	{"username", "—", "Dropbox has no username; used for import matching", ""},
}

// appView is the settings page. Settings may hold what was just typed, when
// saving was refused.
type appView struct {
	App          app.Instance
	Settings     app.Settings
	BaseURL      string
	ConfirmSSO   bool
	ConfirmDom   bool
	OAuth        *oauthView
	CallbackURL  string
	Mappings     []mapping
	Sourceable   []string
	Roles        []string
	TokenMessage string
	// PastLeavers is what applying today's off-boarding settings to past
	// leavers would do; shown as an offer when it changes anyone.
	PastLeavers engine.Impact
}

type oauthView struct {
	ClientID   string
	HasRefresh bool
	Expires    string
}

func (s *Server) appView(r *http.Request, a app.Instance) (appView, error) {
	v := appView{App: a, Settings: a.Settings, BaseURL: a.BaseURL, CallbackURL: s.callbackURL(r),
		Mappings: mappings, Sourceable: app.AppSourceable, Roles: kindRoles(s.opt.Kinds, a.Kind)}
	c, err := s.st.OAuthClient(r.Context(), a.ID)
	switch {
	case err == nil:
		v.OAuth = &oauthView{ClientID: c.ClientID, HasRefresh: c.SealedRefresh != nil}
		if !c.TokenExpires.IsZero() {
			v.OAuth.Expires = c.TokenExpires.Local().Format("2006-01-02 15:04")
		}
	case !errors.Is(err, directory.ErrNotFound):
		return v, err
	}
	v.PastLeavers, err = s.svc.PastLeavers(r.Context(), a.Name)
	return v, err
}

func (s *Server) appPage(w http.ResponseWriter, r *http.Request) error {
	a, err := s.st.GetApp(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	v, err := s.appView(r, a)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "app", page{Title: a.Name, Nav: "apps", Data: v})
	return nil
}

// settingsForm reads the settings form over the current settings.
func settingsForm(f url.Values, cur app.Settings) (app.Settings, []error) {
	on := func(k string) bool { return f.Get(k) == "on" }
	st := cur
	var errs []error
	num := func(k, label string, dst *int) {
		n, err := strconv.Atoi(strings.TrimSpace(f.Get(k)))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s must be a whole number, got %q", label, f.Get(k)))
			return
		}
		*dst = n
	}
	st.Provisioning, st.Silent = on("provisioning"), on("silent")
	st.Features = app.Features{PushNewUsers: on("push_new_users"), PushProfileUpdates: on("push_profile_updates"),
		PushDeactivation: on("push_deactivation"), ReactivateUsers: on("reactivate_users"), ImportNewUsers: on("import_new_users"),
		ImportProfileUpdates: on("import_profile_updates"), PushGroups: on("push_groups")}
	st.Deactivation = app.Deactivation{Type: app.DeactivationType(f.Get("deactivation_type")), WipeData: on("wipe_data"),
		FileManagement: app.FileManagement(f.Get("file_management")), TransferDest: f.Get("transfer_dest"), TransferAdmin: f.Get("transfer_admin"),
		RemoveAfter: strings.TrimSpace(f.Get("remove_after"))}
	if st.Deactivation.Type == app.DeactivateSuspend {
		st.Deactivation.RemoveAfter = "" // a hidden field is not kept
	}
	if st.Deactivation.Type == app.DeactivateSuspend || st.Deactivation.FileManagement != app.FilesTransfer {
		// The transfer choice applies only to removals; hidden fields are not kept.
		st.Deactivation.FileManagement, st.Deactivation.TransferDest, st.Deactivation.TransferAdmin = app.FilesManageInDropbox, "", ""
	}
	num("guard_percent", "Deletion guard percent", &st.Guard.Percent)
	num("guard_min", "Deletion guard minimum", &st.Guard.Min)
	st.Import.MatchOn, st.Import.PartialNames = f.Get("match_on"), on("partial_names")
	st.Import.AutoConfirmExact, st.Import.AutoConfirmNew, st.Import.AutoActivateNew = on("auto_confirm_exact"), on("auto_confirm_new"), on("auto_activate_new")
	num("safeguard_percent", "Import safeguard percent", &st.Import.SafeguardPercent)
	st.Import.AppSourced = append([]string(nil), f["app_sourced"]...)
	return st, errs
}

var errSilentUnconfirmed = errors.New("silent provisioning needs both prerequisites in Dropbox: tick that SSO is set to required and that your corporate domain is verified")

var errMovedTransfer = fmt.Errorf("%w: a new Dropbox API address drops the stored token, so the transfer accounts cannot be checked with Dropbox now: change the address (with its token) first, then the deactivation settings", directory.ErrInvalid)

func (s *Server) saveSettings(w http.ResponseWriter, r *http.Request) error {
	cur, err := s.st.GetApp(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	f := r.PostForm
	base := f.Get("base_url")
	settings, errs := settingsForm(f, cur.Settings)
	confirmSSO, confirmDom := f.Get("confirm_sso") == "on", f.Get("confirm_domain") == "on"
	if settings.Silent && !cur.Settings.Silent && !(confirmSSO && confirmDom) {
		errs = append(errs, errSilentUnconfirmed)
	}
	ch := service.AppChange{BaseURL: &base, Problems: errs,
		Settings: func(st *app.Settings) error { *st, _ = settingsForm(f, *st); return nil }}
	if tok := f.Get("token"); strings.TrimSpace(tok) != "" {
		ch.Token = &tok
	}
	res, err := s.svc.UpdateApp(r.Context(), actorOf(r), cur.Name, ch)
	if err != nil {
		return s.settingsRefused(w, r, cur, res.App, confirmSSO, confirmDom, settingsErr(err))
	}
	msg := "Settings saved."
	if res.OffboardingChanged {
		msg += " New off-boarding settings apply to people who leave from now on; past leavers keep theirs unless you apply them below."
	}
	if res.TokenDropped {
		msg += " The Dropbox API address changed, so the stored token was dropped: paste the team token for the new address, or enter the app key and secret and authenticate with Dropbox Business again."
	}
	s.redirect(w, r, appURL(cur.Name), "ok", msg)
	return nil
}

// settingsErr says in the UI's words why a check with Dropbox refused saving.
func settingsErr(err error) error {
	var nc *service.NotConnectedError
	switch {
	case errors.Is(err, service.ErrMovedTransfer):
		return errMovedTransfer
	case errors.As(err, &nc):
		return fmt.Errorf("%w (the transfer accounts are checked with Dropbox when saved)", notConnected(nc))
	}
	return explain(err)
}

// storeToken seals a team token for the app and stores it.
func (s *Server) storeToken(r *http.Request, a app.Instance, tok string) error {
	return s.svc.SetAppToken(r.Context(), actorOf(r), a, tok)
}

// settingsRefused shows the settings page again with what was typed and why
// it was refused; nothing was saved.
func (s *Server) settingsRefused(w http.ResponseWriter, r *http.Request, cur, next app.Instance, sso, dom bool, err error) error {
	v, verr := s.appView(r, cur)
	if verr != nil {
		return verr
	}
	v.Settings, v.BaseURL, v.ConfirmSSO, v.ConfirmDom = next.Settings, next.BaseURL, sso, dom
	if !errors.Is(err, directory.ErrInvalid) && !errors.Is(err, errSilentUnconfirmed) && !isRemote(err) {
		return err
	}
	s.render(w, r, http.StatusUnprocessableEntity, "app", page{Title: cur.Name, Nav: "apps", Data: v,
		Error: "Nothing was saved:", Errors: problems(err)})
	return nil
}

// saveToken stores a pasted team access token, encrypted; it is never shown again.
func (s *Server) saveToken(w http.ResponseWriter, r *http.Request) error {
	a, err := s.st.GetApp(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	tok, err := credential.CleanToken(r.PostForm.Get("token"))
	if err != nil {
		s.redirect(w, r, appURL(a.Name), "error", "The token must be 1–4096 characters with no spaces.")
		return nil
	}
	if err := s.storeToken(r, a, tok); err != nil {
		return err
	}
	s.redirect(w, r, appURL(a.Name), "ok", "Token stored (encrypted). Use Test connection to check it.")
	return nil
}

func (s *Server) testConnection(w http.ResponseWriter, r *http.Request) error {
	c, err := s.svc.TestConnection(r.Context(), actorOf(r), r.PathValue("name"))
	if errors.Is(err, directory.ErrNotFound) {
		return err
	}
	name := r.PathValue("name")
	if err != nil {
		s.redirect(w, r, appURL(name), "error", "Test connection failed: "+userMessage(explain(err)))
		return nil
	}
	s.redirect(w, r, appURL(name), "ok", "Connection works. "+describeTeam(c))
	return nil
}

// kindRoles lists the roles of kind, least privileged first.
func kindRoles(kinds *connector.Registry, kind string) []string {
	spec, _ := kinds.Spec(kind)
	return spec.Roles
}
