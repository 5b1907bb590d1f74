package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
)

// impactJSON is what an off-boarding action would do, as the API sends it
// with a confirmation_required answer.
type impactJSON struct {
	Offboardings []struct {
		App          string `json:"app"`
		User         string `json:"user"`
		Action       string `json:"action"`
		Wipe         bool   `json:"wipe_data"`
		TransferTo   string `json:"transfer_to"`
		Irreversible bool   `json:"irreversible"`
		RemoveDue    string `json:"remove_due_at"`
	} `json:"offboardings"`
	Count         int      `json:"count"`
	Irreversible  int      `json:"irreversible"`
	Apps          []string `json:"apps"`
	Confirm       string   `json:"confirm"`
	TypeToConfirm string   `json:"type_to_confirm"`
}

// confirmError is the API's refusal of an action until its impact is
// confirmed; it exits as a conflict.
type confirmError struct {
	msg    string
	impact impactJSON
}

func (e *confirmError) Error() string { return e.msg }

func (e *confirmError) Unwrap() error { return &exitError{exitConflict, errors.New(e.msg)} }

// asConfirmError reads a 409 confirmation_required answer.
func asConfirmError(data []byte) (*confirmError, bool) {
	var body struct {
		Error struct {
			Code    string     `json:"code"`
			Message string     `json:"message"`
			Details impactJSON `json:"details"`
		} `json:"error"`
	}
	if json.Unmarshal(data, &body) != nil || body.Error.Code != "confirmation_required" {
		return nil, false
	}
	return &confirmError{msg: body.Error.Message, impact: body.Error.Details}, true
}

// addYesFlag lets scripts confirm an action's impact without a question.
func addYesFlag(c *cobra.Command, g *globals) {
	c.Flags().BoolVarP(&g.yes, "yes", "y", false, "confirm what the action would off-board without asking (for scripts)")
}

// doConfirmed sends a request that may off-board accounts. When the API asks
// for a confirmation it prints the impact and asks on a terminal (or takes
// --yes), then repeats the request with the impact's token; without a
// terminal and without --yes it exits 4 with the impact printed.
func (c *client) doConfirmed(cmd *cobra.Command, g *globals, method, path string, body, out any) error {
	ctx := cmd.Context()
	err := c.do(ctx, method, path, body, out)
	for try := 0; try < 3; try++ {
		var ce *confirmError
		if !errors.As(err, &ce) {
			return err
		}
		printImpact(cmd.ErrOrStderr(), ce.impact)
		if err := confirmImpact(ctx, cmd, g, ce.impact); err != nil {
			return err
		}
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		err = c.do(ctx, method, path+sep+"confirm="+ce.impact.Confirm, body, out)
		if errors.As(err, &ce) {
			fmt.Fprintln(cmd.ErrOrStderr(), "The impact changed meanwhile; nothing was changed. Review it again:")
		}
	}
	return err
}

// confirmImpact asks the admin to confirm, unless --yes did.
func confirmImpact(ctx context.Context, cmd *cobra.Command, g *globals, im impactJSON) error {
	if g.yes {
		return nil
	}
	in := cmd.InOrStdin()
	if !interactive(in) {
		return &exitError{exitConflict, fmt.Errorf("%d account(s) would be off-boarded; nothing was changed. Confirm on a terminal, or add --yes", im.Count)}
	}
	w := cmd.ErrOrStderr()
	want, prompt := "y", "Proceed? [y/N] "
	if im.TypeToConfirm != "" {
		want, prompt = im.TypeToConfirm, fmt.Sprintf("Type %s to confirm: ", im.TypeToConfirm)
	}
	fmt.Fprint(w, prompt)
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	got := strings.TrimSpace(line)
	if got == want || (im.TypeToConfirm == "" && strings.EqualFold(got, "yes")) {
		return ctx.Err()
	}
	return &exitError{exitConflict, errors.New("not confirmed; nothing was changed")}
}

// interactive reports whether r is a terminal. A reader may say so itself
// (IsTerminal), as the tests' stand-in for one does.
func interactive(r io.Reader) bool {
	if t, ok := r.(interface{ IsTerminal() bool }); ok {
		return t.IsTerminal()
	}
	f, ok := r.(*os.File)
	return ok && isatty.IsTerminal(f.Fd())
}

// printImpact prints who would be off-boarded, and how.
func printImpact(w io.Writer, im impactJSON) {
	fmt.Fprintf(w, "This would off-board %d account(s) in %s", im.Count, strings.Join(im.Apps, ", "))
	if im.Irreversible > 0 {
		fmt.Fprintf(w, ", %d of them irreversibly", im.Irreversible)
	}
	fmt.Fprintln(w, ":")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "APP\tUSER\tACTION\tWIPE\tTRANSFER\tREMOVAL DUE\tIRREVERSIBLE")
	for _, o := range im.Offboardings {
		due := o.RemoveDue
		if due == "" {
			due = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", o.App, o.User, o.Action, yesNo(o.Wipe), dash(o.TransferTo), due, yesNo(o.Irreversible))
	}
	_ = tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
