package main

import (
	"errors"
	"fmt"

	"github.com/sparkckpt/sparkckpt/rewrite"
	"github.com/spf13/cobra"
)

// runRewriteWithSinks finishes a rewrite given --sink: the checkpoint's
// plan (already made) and one plan per sink output directory, each with
// its own journal and backup directory (a journal covers one root). If
// any plan is refused nothing is written.
func runRewriteWithSinks(cmd *cobra.Command, g *globalOptions, o *rewriteOptions, st *stores, plan *rewrite.Plan, refusal error, mp *rewrite.Mapper, hooks *rewrite.Hooks) error {
	results := []rewriteResult{{Plan: plan}}
	refusals := []error{refusal}
	for _, s := range o.sinks {
		in, err := st.input(s)
		if err != nil {
			return &exitErr{code: exitError, err: err}
		}
		if _, err := sinkOf(in); err != nil {
			return &exitErr{code: exitError, err: usageError{fmt.Errorf("--sink: %w", err)}}
		}
		sp, refusal, err := o.plan(st, s, mp)
		if err != nil {
			return err
		}
		results = append(results, rewriteResult{Plan: sp})
		refusals = append(refusals, refusal)
	}
	all := errors.Join(refusals...)
	if o.apply && all == nil {
		for i := range results {
			r := &results[i]
			if len(r.Files) == 0 {
				continue
			}
			sub := ""
			if i > 0 {
				sub = fmt.Sprintf("sink-%d", i)
			}
			backup, err := o.backup(st, r.Dir(), sub)
			if err != nil {
				return &exitErr{code: exitError, err: err}
			}
			jpath, err := rewrite.ApplyAt(r.Plan, mp, backup, hooks)
			if err != nil {
				return &exitErr{code: exitError, err: applyFailed(err, jpath)}
			}
			r.Applied, r.Journal = true, jpath
		}
	}
	if g.json {
		if err := writeJSON(cmd.OutOrStdout(), rewriteAll{Plans: results}); err != nil {
			return err
		}
	} else {
		p := newPrinter(cmd)
		for i := range results {
			if i > 0 {
				p.printf("\n")
			}
			p.printf("%s\n", p.bold("== "+results[i].Root))
			renderRewrite(p, &results[i], o.apply, refusals[i])
		}
	}
	if all != nil {
		return &exitErr{code: exitError, err: all}
	}
	return nil
}

// rewriteAll is rewrite --json with --sink: the checkpoint's plan first.
type rewriteAll struct {
	Plans []rewriteResult `json:"plans"`
}
