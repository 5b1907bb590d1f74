package engine

import "github.com/roster-dev/roster/internal/connector"

// opCap names the capability an op beyond the core connector needs, and
// what to say when the app lacks it; ok is false for a core op.
func opCap(op Op) (c connector.Capability, reason string, ok bool) {
	switch op {
	case OpSetRole:
		return connector.CapRoles, "the app's connector cannot set roles", true
	case OpSuspend, OpUnsuspend:
		return connector.CapSuspend, "the app's connector cannot suspend", true
	case OpRecover:
		return connector.CapRecover, "the app's connector cannot recover removed members", true
	}
	return "", "", false
}

// lacks says why conn cannot carry out op, or "" when it can.
func lacks(conn connector.Connector, op Op) string {
	if conn == nil { // nothing to ask (a plan made without the app)
		return ""
	}
	var ok bool
	switch op {
	case OpSetRole:
		_, ok = connector.Capable[connector.RoleSetter](conn)
	case OpSuspend, OpUnsuspend:
		_, ok = connector.Capable[connector.Suspender](conn)
	case OpRecover:
		_, ok = connector.Capable[connector.Recoverer](conn)
	default:
		return ""
	}
	if ok {
		return ""
	}
	_, reason, _ := opCap(op)
	return reason
}

// gateKind marks Skipped what the app's kind does not declare, for a plan
// shown without connecting; without the binary's kinds (tests), as is.
func (e *Engine) gateKind(kind string, acts []Action) []Action {
	for i := range acts {
		c, reason, ok := opCap(acts[i].Op)
		if ok && e.cfg.Kinds != nil && acts[i].Skipped == "" && !e.cfg.Kinds.Has(kind, c) {
			acts[i].Skipped = reason
		}
	}
	return acts
}

// gate marks Skipped, with the reason, each action conn cannot carry out.
func gate(conn connector.Connector, acts []Action) []Action {
	for i := range acts {
		if acts[i].Skipped == "" {
			acts[i].Skipped = lacks(conn, acts[i].Op)
		}
	}
	return acts
}

// withCap calls call with conn's capability T; gate has planned a lacking
// one Skipped, so a refusal here is a bug's safety net.
func withCap[T any](conn connector.Connector, op Op, call func(T) error) error {
	c, ok := connector.Capable[T](conn)
	if !ok {
		return connector.Refusef(connector.Permanent, string(op), connector.ErrUnsupported, "%s", lacks(conn, op))
	}
	return call(c)
}
