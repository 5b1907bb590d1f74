package engine

import "github.com/roster-dev/roster/internal/connector"

// lacks says why conn cannot carry out op, or "" when it can: an op beyond
// the core connector needs its capability.
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
	return "the app's connector cannot " + map[Op]string{OpSetRole: "set roles", OpSuspend: "suspend",
		OpUnsuspend: "suspend", OpRecover: "recover removed members"}[op]
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
