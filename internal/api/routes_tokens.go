package api

import (
	"net/http"
	"strconv"

	"github.com/roster-dev/roster/internal/store"
)

// CreatedToken is returned once, when a token is made.
type CreatedToken struct {
	store.Token
	Secret string `json:"token"`
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	ts, err := s.svc.Tokens(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, List[store.Token]{Items: ts})
	return nil
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name string `json:"name"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	t, secret, err := s.svc.CreateToken(r.Context(), actorOf(r), in.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, CreatedToken{Token: t, Secret: secret})
	return nil
}

func (s *Server) deleteToken(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return badRequest("token id must be a whole number")
	}
	if err := s.svc.DeleteToken(r.Context(), actorOf(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
