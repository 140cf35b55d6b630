package pii

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func key(b byte) string {
	return base64.StdEncoding.EncodeToString([]byte(strings.Repeat(string(b), 32)))
}

// A sealed value names its key and hides the number; the newest key seals,
// and a ring that still lists the old key opens what it sealed (rotation).
func TestSealOpenAndRotate(t *testing.T) {
	old, err := Parse("k1:"+key('a'), key('h'))
	require.NoError(t, err)
	sealed := old.Seal("110105198501010011")
	assert.True(t, strings.HasPrefix(sealed, "pii:k1:"), sealed)
	assert.NotContains(t, sealed, "110105198501010011")
	assert.NotEqual(t, sealed, old.Seal("110105198501010011"), "a fresh nonce each time")

	rotated, err := Parse("k2:"+key('b')+",k1:"+key('a'), key('h'))
	require.NoError(t, err)
	got, err := rotated.Open(sealed)
	require.NoError(t, err)
	assert.Equal(t, "110105198501010011", got)
	assert.True(t, strings.HasPrefix(rotated.Seal("13800000001"), "pii:k2:"), "the first key seals")

	// Without k1 the old value cannot be opened; with k1's id on another key
	// the value fails its authentication.
	withoutOld, err := Parse("k2:"+key('b'), key('h'))
	require.NoError(t, err)
	_, err = withoutOld.Open(sealed)
	assert.ErrorContains(t, err, `no key "k1"`)
	wrong, err := Parse("k1:"+key('c'), key('h'))
	require.NoError(t, err)
	_, err = wrong.Open(sealed)
	assert.Error(t, err)

	_, err = old.Open("110105198501010011")
	assert.ErrorIs(t, err, ErrNotSealed, "a plain value is never taken for a sealed one")
	v, err := old.Open("")
	assert.NoError(t, err)
	assert.Equal(t, "", v)
	assert.Equal(t, "", old.Seal(""))
}

// The keyed hash finds a number however typed, differs by key, and does not
// move when the encryption keys rotate.
func TestHash(t *testing.T) {
	a, _ := Parse("k1:"+key('a'), key('h'))
	b, _ := Parse("k2:"+key('b')+",k1:"+key('a'), key('h'))
	c, _ := Parse("k1:"+key('a'), key('i'))
	assert.Equal(t, a.Hash("11010519850101001x"), a.Hash(" 11010519850101001X "))
	assert.Equal(t, a.Hash("13800000001"), b.Hash("13800000001"))
	assert.NotEqual(t, a.Hash("13800000001"), c.Hash("13800000001"))
	assert.NotEqual(t, a.Hash("13800000001"), a.Hash("13800000002"))
	assert.Nil(t, a.Hash(""))
}

func TestParseRefuses(t *testing.T) {
	for _, tc := range []struct{ keys, hash string }{
		{"", key('h')},
		{"k1", key('h')},
		{"k1:short", key('h')},
		{"k1:" + key('a') + ",k1:" + key('b'), key('h')},
		{"k1:" + key('a'), ""},
		{"k1:" + key('a'), base64.StdEncoding.EncodeToString([]byte("too short"))},
	} {
		_, err := Parse(tc.keys, tc.hash)
		assert.Error(t, err, "%q %q", tc.keys, tc.hash)
	}
}
