package app

import (
	"net/http"
	"net/http/pprof"
)

// pprofHandler serves Go's profiler under /_overcast/debug/pprof/ when
// Config.Pprof is set (OVERCAST_PPROF=1): how the benchmarks find where the
// time goes. It is off by default; profiles reveal nothing secret, but
// nothing should run that a user did not ask for.
func pprofHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return http.StripPrefix("/_overcast", mux)
}
