package api

import (
	"net/http"
	"strings"
)

// Cookies the API sets (docs/security.md "Cookies"): the console's session
// and sign-in form token, and the device cookie of sign-in. Every one is
// HttpOnly, SameSite=Strict and, unless the API is reached over plain HTTP
// (PUBLIC_HTTPS=false, development on localhost), Secure with the __Host-
// prefix: a browser then takes it only from this host over HTTPS, with
// Path=/ and no Domain, so neither a sibling subdomain nor anyone on the
// network path can plant one.
const hostPrefix = "__Host-"

// deviceCookie holds the sign-in's device token (auth, "Device cookies").
const deviceCookie = "lendflow_device"

// overHTTPS reports whether the client reached the API over HTTPS: TLS here,
// or ended in front of the API (PUBLIC_HTTPS, the default).
func (s *Server) overHTTPS(r *http.Request) bool { return r.TLS != nil || !s.PlainHTTP }

// cookieName is base as the request's cookies are named: with the __Host-
// prefix over HTTPS.
func (s *Server) cookieName(r *http.Request, base string) string {
	if s.overHTTPS(r) {
		return hostPrefix + base
	}
	return base
}

// setCookie sets (maxAge > 0) or clears (maxAge < 0) the cookie base.
func (s *Server) setCookie(w http.ResponseWriter, r *http.Request, base, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: s.cookieName(r, base), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.overHTTPS(r),
	})
}

// cookie is the value of the cookie base, "" without one. A cookie of the
// name without its prefix is not read over HTTPS: it may have been planted.
func (s *Server) cookie(r *http.Request, base string) string {
	c, err := r.Cookie(s.cookieName(r, base))
	if err != nil || len(c.Value) > 256 {
		return ""
	}
	return strings.TrimSpace(c.Value)
}
