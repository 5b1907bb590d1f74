// Package connectors lists the app kinds this binary supports: the one place
// that imports every connector, as dex's server lists its connectors.
package connectors

import (
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/connector/dropbox"
)

// Registry returns the registry of every supported kind.
func Registry() *connector.Registry {
	return connector.NewRegistry(dropbox.Spec())
}
