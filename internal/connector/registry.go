package connector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
)

// Capability is something an app kind can do beyond the core Connector.
type Capability string

// The capabilities a kind may declare. A declared capability's interface
// (Suspender, Recoverer, GroupPusher, …) is implemented by its connectors.
const (
	CapSuspend      Capability = "suspend"       // suspend and unsuspend members
	CapRecover      Capability = "recover"       // bring back a removed member
	CapTransfer     Capability = "transfer"      // move a leaver's files on removal
	CapWipe         Capability = "wipe"          // wipe a leaver's devices
	CapRoles        Capability = "roles"         // admin roles beyond a plain member
	CapWelcomeEmail Capability = "welcome_email" // the app invites new members itself
	CapSilent       Capability = "silent"        // create members without telling them
	CapGroupPush    Capability = "group_push"    // groups pushed from the directory
)

// OpenOptions are what a kind's constructor gets for one app instance.
type OpenOptions struct {
	BaseURL string
	// Token is the app's credential; TokenSource, when set, overrides it and
	// is asked before every call, TokenExpired told when the app refuses it.
	Token        string
	TokenSource  func(ctx context.Context) (string, error)
	TokenExpired func()
	Pacer        Pacer
	Logger       *slog.Logger
}

// Spec is one app kind as the registry knows it (dex's model: kind, typed
// settings, constructor).
type Spec struct {
	Kind  string // as stored on an app instance, e.g. "dropbox"
	Title string // for people, e.g. "Dropbox"
	// DefaultBaseURL is the app's real API; tests point instances elsewhere.
	DefaultBaseURL string
	Capabilities   []Capability
	// Roles are the kind's member roles, least privileged first; Roles[0] is
	// a plain member and the default. Empty: the kind has no roles.
	Roles []string
	// NormalizeName makes a directory name one the app accepts; nil: as is.
	NormalizeName func(string) string
	// ValidateSettings checks the kind's own rules on an instance's settings,
	// given as JSON; nil: none.
	ValidateSettings func(settings []byte) error
	// ExplainFailure says, for the text of an error the app gave (as a task
	// keeps it), why it failed and how an admin fixes it, in plain words;
	// ok false when it does not know the error. Nil: it knows none.
	ExplainFailure func(lastError string) (why, fix string, ok bool)
	Open           func(ctx context.Context, o OpenOptions) (Connector, error)
}

// Registry holds the app kinds a binary supports. It is built once at start
// and only read after.
type Registry struct {
	specs map[string]Spec
	kinds []string
}

// NewRegistry registers the given kinds.
func NewRegistry(specs ...Spec) *Registry {
	r := &Registry{specs: make(map[string]Spec, len(specs))}
	for _, s := range specs {
		r.specs[s.Kind] = s
		r.kinds = append(r.kinds, s.Kind)
	}
	slices.Sort(r.kinds)
	return r
}

// Kinds lists the registered kinds, sorted.
func (r *Registry) Kinds() []string {
	if r == nil {
		return nil
	}
	return slices.Clone(r.kinds)
}

// Spec returns a kind's registration.
func (r *Registry) Spec(kind string) (Spec, bool) {
	if r == nil {
		return Spec{}, false
	}
	s, ok := r.specs[kind]
	return s, ok
}

// CheckKind refuses a kind that is not registered.
func (r *Registry) CheckKind(kind string) error {
	if _, ok := r.Spec(kind); !ok {
		return fmt.Errorf("app kind %q is not supported (only %s)", kind, quoted(r.Kinds()))
	}
	return nil
}

// Has says whether kind declares capability c.
func (r *Registry) Has(kind string, c Capability) bool {
	s, _ := r.Spec(kind)
	return slices.Contains(s.Capabilities, c)
}

// Open makes the connector of one app instance of kind.
func (r *Registry) Open(ctx context.Context, kind string, o OpenOptions) (Connector, error) {
	s, ok := r.Spec(kind)
	if !ok || s.Open == nil {
		return nil, r.CheckKind(kind)
	}
	return s.Open(ctx, o)
}

// NormalizeName applies kind's name rule; an unknown kind keeps the name.
func (r *Registry) NormalizeName(kind, name string) string {
	if s, _ := r.Spec(kind); s.NormalizeName != nil {
		return s.NormalizeName(name)
	}
	return name
}

// ParseRole validates a role of kind; "" means the plain member role.
func (r *Registry) ParseRole(kind, role string) (string, error) {
	s, _ := r.Spec(kind)
	if len(s.Roles) == 0 {
		return role, nil
	}
	if role == "" {
		return s.Roles[0], nil
	}
	if slices.Contains(s.Roles, role) {
		return role, nil
	}
	return "", fmt.Errorf("role %q is not one of %s", role, strings.Join(s.Roles, ", "))
}

// Roles lists the roles of every kind, each once: a kind's least privileged
// first, kinds in order. For forms that offer the roles of apps of any kind.
func (r *Registry) Roles() []string {
	var out []string
	for _, k := range r.Kinds() {
		for _, role := range r.specs[k].Roles {
			if !slices.Contains(out, role) {
				out = append(out, role)
			}
		}
	}
	return out
}

// RoleRank orders kind's roles by privilege (0 the least); an unknown role ranks -1.
func (r *Registry) RoleRank(kind string) func(role string) int {
	s, _ := r.Spec(kind)
	return func(role string) int { return slices.Index(s.Roles, role) }
}

func quoted(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// CheckSettings refuses an instance's settings that kind cannot carry out:
// a capability they need (needs) that the kind does not declare, or the
// kind's own rules on the settings, given as JSON.
func (r *Registry) CheckSettings(kind string, needs []Capability, settings []byte) error {
	s, ok := r.Spec(kind)
	if !ok {
		return r.CheckKind(kind)
	}
	var errs []error
	for _, c := range needs {
		if !slices.Contains(s.Capabilities, c) {
			errs = append(errs, fmt.Errorf("%s cannot %s: the settings ask for it", or(s.Title, kind), c.does()))
		}
	}
	if s.ValidateSettings != nil {
		if err := s.ValidateSettings(settings); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// does says what a capability does, for refusals.
func (c Capability) does() string {
	switch c {
	case CapSuspend:
		return "suspend members"
	case CapRecover:
		return "recover removed members"
	case CapTransfer:
		return "transfer a leaver's files"
	case CapWipe:
		return "wipe a leaver's devices"
	case CapRoles:
		return "give members admin roles"
	case CapWelcomeEmail:
		return "send welcome emails"
	case CapSilent:
		return "provision members silently"
	case CapGroupPush:
		return "take groups pushed from the directory"
	}
	return string(c)
}

func or(s, def string) string {
	if s != "" {
		return s
	}
	return def
}

// CheckRules applies only kind's own settings rules (settings as JSON): the
// store's check, which keeps apps of any kind and so refuses no kind.
func (r *Registry) CheckRules(kind string, settings []byte) error {
	if s, _ := r.Spec(kind); s.ValidateSettings != nil {
		return s.ValidateSettings(settings)
	}
	return nil
}
