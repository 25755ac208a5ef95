// Command playground-wasm is the WebAssembly side of the browser playground
// (web/): built with GOOS=js GOARCH=wasm and run in a Web Worker, it sets the
// global functions fmNew(config), fmTrain(k), fmFrame(view), fmLogLik(view)
// and fmDatasets(),
// each taking and returning JSON, over package web/playground. Every number
// the page shows is computed here by the library (fm, nn, data, cnf).
//
// The API is the package's: fmNew takes a playground.Config, fmTrain the
// number of steps k and returns {"losses": [...], "steps": n}, fmFrame a
// playground.View and returns a playground.Frame. Each returns {"ok": …}
// or {"error": "…"}. TestAPI runs the same functions natively.
//
// Time convention (Lipman et al. 2022, arXiv:2210.02747, §2): t = 0 is
// noise, t = 1 is data.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/flowmatch/flowmatch/data"
	"github.com/flowmatch/flowmatch/web/playground"
)

// session is the one training run of the page.
var session *playground.Session

func newSession(in string) (any, error) {
	var cfg playground.Config
	if err := json.Unmarshal([]byte(in), &cfg); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	s, err := playground.New(cfg)
	if err != nil {
		return nil, err
	}
	if session != nil {
		session.Close()
	}
	session = s
	return s.Config(), nil
}

type trained struct {
	Losses   []float64 `json:"losses"`
	Steps    int       `json:"steps"`
	Finished bool      `json:"finished"`
}

func train(in string) (any, error) {
	if session == nil {
		return nil, errors.New("no session: call fmNew first")
	}
	k, err := strconv.Atoi(in)
	if err != nil || k < 1 || k > 10000 {
		return nil, fmt.Errorf("steps %q: want an integer from 1 to 10000", in)
	}
	l, err := session.Train(k)
	if errors.Is(err, playground.ErrFinished) {
		return trained{l, session.Steps(), true}, nil
	}
	if err != nil {
		return nil, err
	}
	return trained{l, session.Steps(), false}, nil
}

func frame(in string) (any, error) {
	if session == nil {
		return nil, errors.New("no session: call fmNew first")
	}
	var v playground.View
	if err := json.Unmarshal([]byte(in), &v); err != nil {
		return nil, fmt.Errorf("view: %w", err)
	}
	return session.Frame(v)
}

// likView is what fmLogLik takes.
type likView struct {
	Res   int     `json:"res"`
	Steps int     `json:"steps"`
	Lo    float64 `json:"lo"`
	Hi    float64 `json:"hi"`
}

func logLik(in string) (any, error) {
	if session == nil {
		return nil, errors.New("no session: call fmNew first")
	}
	var v likView
	if err := json.Unmarshal([]byte(in), &v); err != nil {
		return nil, fmt.Errorf("log-likelihood view: %w", err)
	}
	return session.LogLikelihood(v.Res, v.Steps, v.Lo, v.Hi)
}

func datasets() any {
	var out []any
	for _, n := range data.Names() {
		out = append(out, n)
	}
	return out
}
