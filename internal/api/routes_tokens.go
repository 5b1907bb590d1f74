package api

import (
	"net/http"
	"strconv"

	"github.com/roster-dev/roster/internal/credential"
	"github.com/roster-dev/roster/internal/store"
)

// CreatedToken is returned once, when a token is made.
type CreatedToken struct {
	store.Token
	Secret string `json:"token"`
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	ts, err := s.st.ListTokens(r.Context())
	if err != nil {
		return err
	}
	if ts == nil {
		ts = []store.Token{}
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
	tok, hash, err := credential.NewToken()
	if err != nil {
		return err
	}
	t, err := s.st.CreateToken(r.Context(), actorOf(r), in.Name, hash)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, CreatedToken{Token: t, Secret: tok})
	return nil
}

func (s *Server) deleteToken(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return badRequest("token id must be a whole number")
	}
	if err := s.st.DeleteToken(r.Context(), actorOf(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
