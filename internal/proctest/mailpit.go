package proctest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/internal/testwait"
)

// Mailpit is a Mailpit of the test's own (the tool scripts/tools.sh
// installs): an SMTP server that keeps what it receives, and its API.
type Mailpit struct {
	SMTP string // host:port
	API  string // base URL of the web UI and API
	t    testing.TB
}

// StartMailpit runs Mailpit on free ports, its messages in memory, until the
// test ends. args are more flags (--smtp-allowed-recipients, …).
func StartMailpit(t testing.TB, args ...string) *Mailpit {
	smtp, web := FreeAddr(t), FreeAddr(t)
	cmd := exec.Command(Tool(t, "mailpit"), append([]string{"--smtp", smtp, "--listen", web, "--max", "0",
		"--disable-version-check", "--smtp-disable-rdns", "--quiet"}, args...)...)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	m := &Mailpit{SMTP: smtp, API: "http://" + web, t: t}
	testwait.Within(30*time.Second).For(t, "mailpit to answer", func() bool {
		resp, err := http.Get(m.API + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return m
}

// MailAddress is an address as Mailpit's API gives it.
type MailAddress struct {
	Name    string `json:"Name"`
	Address string `json:"Address"`
}

// Mail is one message Mailpit received, as its list shows it.
type Mail struct {
	ID        string        `json:"ID"`
	MessageID string        `json:"MessageID"`
	From      MailAddress   `json:"From"`
	To        []MailAddress `json:"To"`
	Subject   string        `json:"Subject"`
	Snippet   string        `json:"Snippet"`
	Created   time.Time     `json:"Created"`
}

// Messages is every message received, oldest first.
func (m *Mailpit) Messages() []Mail {
	var page struct {
		Total    int    `json:"total"`
		Messages []Mail `json:"messages"`
	}
	m.get("/api/v1/messages?limit=1000000", &page)
	require.Len(m.t, page.Messages, page.Total, "one page holds every message")
	// The API lists newest first.
	for i, j := 0, len(page.Messages)-1; i < j; i, j = i+1, j-1 {
		page.Messages[i], page.Messages[j] = page.Messages[j], page.Messages[i]
	}
	return page.Messages
}

// Text is a message's plain-text body.
func (m *Mailpit) Text(id string) string {
	var msg struct {
		Text string `json:"Text"`
	}
	m.get("/api/v1/message/"+url.PathEscape(id), &msg)
	return msg.Text
}

// Headers are a message's headers as received.
func (m *Mailpit) Headers(id string) map[string][]string {
	h := map[string][]string{}
	m.get("/api/v1/message/"+url.PathEscape(id)+"/headers", &h)
	return h
}

func (m *Mailpit) get(path string, into any) {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.API+path, nil)
	require.NoError(m.t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(m.t, err)
	defer resp.Body.Close()
	require.Equal(m.t, http.StatusOK, resp.StatusCode, "mailpit %s", path)
	require.NoError(m.t, json.NewDecoder(resp.Body).Decode(into))
}

// String lists the messages as a person sees the inbox: recipient, subject.
func (m *Mailpit) String() string {
	var b strings.Builder
	for _, msg := range m.Messages() {
		to := ""
		if len(msg.To) > 0 {
			to = msg.To[0].Address
		}
		fmt.Fprintf(&b, "%-28s %s\n", to, msg.Subject)
	}
	return b.String()
}
