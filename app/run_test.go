package app

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Every process serves with read, write and idle timeouts, so a client that
// sends or reads slowly holds a connection only so long.
func TestServerTimeouts(t *testing.T) {
	srv := newServer(context.Background(), nil)
	assert.Equal(t, readHeaderTimeout, srv.ReadHeaderTimeout)
	assert.Equal(t, readTimeout, srv.ReadTimeout)
	assert.Equal(t, writeTimeout, srv.WriteTimeout)
	assert.Equal(t, idleTimeout, srv.IdleTimeout)
	assert.Equal(t, 64<<10, srv.MaxHeaderBytes, "a request line of 400,000 digits is refused by the server itself")
	for _, d := range []any{srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout} {
		assert.NotZero(t, d)
	}
	assert.Greater(t, writeTimeout, readTimeout, "an answer may wait on the bank (30 s) and the database")
}
