package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// printOut writes raw JSON for -o json, or a table of the given rows.
func printOut(w io.Writer, g *globals, raw []byte, header []string, rows [][]string) error {
	if g.output == "json" {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// fields prints one object as aligned "name: value" lines.
func fields(w io.Writer, g *globals, raw []byte, pairs [][2]string) error {
	if g.output == "json" {
		return printOut(w, g, raw, nil, nil)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', 0)
	for _, p := range pairs {
		fmt.Fprintf(tw, "%s:\t%s\n", p[0], p[1])
	}
	return tw.Flush()
}
