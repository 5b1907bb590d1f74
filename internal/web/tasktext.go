package web

import (
	"fmt"

	"github.com/roster-dev/roster/internal/connector"
)

// taskHelp is what a task's error means and how to fix it, in plain words.
type taskHelp struct {
	Why, Fix string
}

// explainTask says why a task failed and what to do: in the words of the
// app kind's connector when it knows the error, else in general ones.
func explainTask(kinds *connector.Registry, kind, lastError string, attempts int) taskHelp {
	if spec, ok := kinds.Spec(kind); ok && spec.ExplainFailure != nil {
		if why, fix, ok := spec.ExplainFailure(lastError); ok {
			return taskHelp{why, fix}
		}
	}
	if attempts > 1 {
		return taskHelp{fmt.Sprintf("It failed %d times in a row.", attempts), "Read the last error below; Retry once its cause is fixed, or Dismiss."}
	}
	return taskHelp{"The app refused the change for good.", "Read the last error below; Retry once its cause is fixed, or Dismiss."}
}
