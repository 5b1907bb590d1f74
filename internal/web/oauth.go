package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/credential"
	"github.com/roster-dev/roster/internal/directory"
)

// "Authenticate with Dropbox Business": the OAuth 2 authorization-code flow
// (reference §2.1). The admin enters the Dropbox app's key and secret once;
// Roster sends the browser to Dropbox with a one-time state parameter bound
// to the session, and exchanges the returned code for a team token, which is
// stored encrypted as the app's credential. Secrets are never shown again.

const stateLife = 10 * time.Minute

// callbackURL is the redirect address to register with the Dropbox app.
func (s *Server) callbackURL(r *http.Request) string {
	if s.opt.PublicURL != "" {
		return strings.TrimRight(s.opt.PublicURL, "/") + "/oauth/callback"
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/oauth/callback"
}

func (s *Server) saveOAuthClient(w http.ResponseWriter, r *http.Request) error {
	a, err := s.st.GetApp(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	id, secret := strings.TrimSpace(r.PostForm.Get("client_id")), strings.TrimSpace(r.PostForm.Get("client_secret"))
	var sealed []byte
	if secret == "" {
		// An empty secret box keeps the stored secret, which is never sent back to the page.
		cur, err := s.st.OAuthClient(r.Context(), a.ID)
		if err != nil || cur.ClientID != id {
			s.redirect(w, r, appURL(a.Name), "error", "Enter the app secret of the Dropbox app too.")
			return nil
		}
		sealed = cur.SealedSecret
	} else if sealed, err = s.box.Seal([]byte(secret), credential.OAuthSecretContext(a.ID)); err != nil {
		return err
	}
	if err := s.st.SetOAuthClient(r.Context(), actorOf(r), a.Name, id, sealed); err != nil {
		return s.actionFailed(w, r, appURL(a.Name), err)
	}
	s.redirect(w, r, appURL(a.Name), "ok", "Dropbox app key and secret stored (the secret encrypted). Next: Authenticate with Dropbox Business.")
	return nil
}

func (s *Server) oauthConfig(r *http.Request, a app.Instance) (*oauth2.Config, error) {
	c, err := s.st.OAuthClient(r.Context(), a.ID)
	if err != nil {
		return nil, err
	}
	secret, err := s.box.Open(c.SealedSecret, credential.OAuthSecretContext(a.ID))
	if err != nil {
		return nil, fmt.Errorf("OAuth client secret of app %s: %w", a.Name, err)
	}
	return &oauth2.Config{ClientID: c.ClientID, ClientSecret: string(secret), Endpoint: credential.Endpoint(a.BaseURL), RedirectURL: s.callbackURL(r)}, nil
}

// startOAuth sends the browser to Dropbox. It is a form (POST) so that no
// other site can start a flow that would connect a team of its choosing.
func (s *Server) startOAuth(w http.ResponseWriter, r *http.Request) error {
	a, err := s.st.GetApp(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	cfg, err := s.oauthConfig(r, a)
	if err != nil {
		return s.actionFailed(w, r, appURL(a.Name), err)
	}
	state, err := randomID()
	if err != nil {
		return err
	}
	if err := s.st.CreateOAuthState(r.Context(), hashID(state), sessionOf(r).hash, a.ID, s.opt.Now().Add(stateLife)); err != nil {
		return err
	}
	to := cfg.AuthCodeURL(state, oauth2.SetAuthURLParam("token_access_type", "offline"))
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

func (s *Server) appByID(ctx context.Context, id int64) (app.Instance, error) {
	apps, err := s.st.ListApps(ctx)
	if err != nil {
		return app.Instance{}, err
	}
	for _, a := range apps {
		if a.ID == id {
			return a, nil
		}
	}
	return app.Instance{}, fmt.Errorf("%w: the app of this sign-in was deleted", directory.ErrNotFound)
}

// oauthCallback is where Dropbox sends the browser back.
func (s *Server) oauthCallback(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	appID, err := s.st.TakeOAuthState(r.Context(), hashID(q.Get("state")), sessionOf(r).hash, s.opt.Now())
	if err != nil {
		return err
	}
	a, err := s.appByID(r.Context(), appID)
	if err != nil {
		return err
	}
	if e := q.Get("error"); e != "" {
		s.redirect(w, r, appURL(a.Name), "error", "Dropbox did not authorize Roster: "+e+" "+q.Get("error_description"))
		return nil
	}
	if err := s.exchange(r, a, q.Get("code")); err != nil {
		return s.actionFailed(w, r, appURL(a.Name), err)
	}
	msg := "Authenticated with Dropbox Business; the team token is stored encrypted."
	if a, err = s.st.GetApp(r.Context(), a.Name); err == nil {
		if c, err := s.svc.Connection(r.Context(), a); err == nil {
			msg += " " + describeTeam(c)
		}
	}
	s.redirect(w, r, appURL(a.Name), "ok", msg)
	return nil
}

// exchange trades the code for tokens and stores them sealed.
func (s *Server) exchange(r *http.Request, a app.Instance, code string) error {
	cfg, err := s.oauthConfig(r, a)
	if err != nil {
		return err
	}
	ctx := context.WithValue(r.Context(), oauth2.HTTPClient, s.opt.HTTPClient)
	tok, err := cfg.Exchange(ctx, code)
	if err != nil {
		return explainExchange(err)
	}
	if team, _ := tok.Extra("team_id").(string); team == "" {
		return fmt.Errorf("%w: Dropbox gave a token for a single user, not a team; use a Dropbox app with team scopes", directory.ErrInvalid)
	}
	return credential.SetOAuthTokens(r.Context(), s.st, s.box, actorOf(r), a, tok)
}

// explainExchange keeps Dropbox's own error code and description and drops
// the rest of the response.
func explainExchange(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return fmt.Errorf("%w: Dropbox refused the code: %s %s (check the app key and secret, and that the redirect URI is registered)",
			directory.ErrInvalid, re.ErrorCode, re.ErrorDescription)
	}
	return fmt.Errorf("%w: cannot reach Dropbox to finish the sign-in: %v", directory.ErrInvalid, redact(err))
}

// redact drops any URL query from an error, where a code could travel.
func redact(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			u.RawQuery = ""
			return ue.Op + " " + u.String() + ": " + ue.Err.Error()
		}
	}
	return err.Error()
}
