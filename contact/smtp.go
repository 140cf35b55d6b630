package contact

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strconv"
	"time"
)

// SMTP security: none (a local relay, Mailpit), STARTTLS on a plain
// connection, or TLS from the first byte (SMTPS, port 465).
const (
	TLSNone     = "none"
	TLSStartTLS = "starttls"
	TLSImplicit = "tls"
)

// SMTPConfig is the mail server notices are handed to (SMTP_HOST, SMTP_PORT,
// SMTP_FROM, SMTP_USERNAME, SMTP_PASSWORD, SMTP_TLS; README "Configuration").
type SMTPConfig struct {
	Host     string
	Port     int
	From     string // the sender, "lendflow <notices@example.com>"
	Username string // with Password: PLAIN authentication, never over a plain connection but to localhost
	Password string
	TLS      string // TLSNone, TLSStartTLS or TLSImplicit
}

// Validate checks c before the first send.
func (c SMTPConfig) Validate() error {
	var bad []error
	if c.Host == "" {
		bad = append(bad, errors.New("SMTP_HOST is required"))
	}
	if c.Port < 1 || c.Port > 65535 {
		bad = append(bad, fmt.Errorf("SMTP_PORT %d: want 1 to 65535", c.Port))
	}
	if a, err := mail.ParseAddress(c.From); err != nil || a.Address == "" {
		bad = append(bad, fmt.Errorf("SMTP_FROM %q: want an address such as lendflow <notices@example.com>", c.From))
	}
	if (c.Username == "") != (c.Password == "") {
		bad = append(bad, errors.New("SMTP_USERNAME and SMTP_PASSWORD go together"))
	}
	switch c.TLS {
	case TLSNone, TLSStartTLS, TLSImplicit:
	default:
		bad = append(bad, fmt.Errorf("SMTP_TLS %q: want none, starttls or tls", c.TLS))
	}
	return errors.Join(bad...)
}

// SMTPSender sends each notice as one e-mail to its person's address, on a
// connection of its own.
type SMTPSender struct {
	c    SMTPConfig
	from *mail.Address
	now  func() time.Time
}

// NewSMTPSender checks c and returns its sender.
func NewSMTPSender(c SMTPConfig) (*SMTPSender, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	from, _ := mail.ParseAddress(c.From)
	return &SMTPSender{c: c, from: from, now: time.Now}, nil
}

// Send hands o to the mail server. A refusal of the recipient or the message
// (a 5xx answer) is Permanent; anything else (the server down, a 4xx) is
// worth retrying.
func (s *SMTPSender) Send(ctx context.Context, o Outgoing) error {
	if o.Email == "" {
		return Permanent(errors.New("the user has no e-mail address"))
	}
	msg, err := compose(o, s.from, s.now())
	if err != nil {
		return Permanent(err)
	}
	err = s.send(ctx, o.Email, msg)
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 {
		return Permanent(err)
	}
	return err
}

func (s *SMTPSender) send(ctx context.Context, to string, msg []byte) error {
	addr := net.JoinHostPort(s.c.Host, strconv.Itoa(s.c.Port))
	tlsConfig := &tls.Config{ServerName: s.c.Host, MinVersion: tls.VersionTLS12}
	var conn net.Conn
	var err error
	if s.c.TLS == TLSImplicit {
		conn, err = (&tls.Dialer{Config: tlsConfig}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return err
	}
	defer conn.Close()
	// net/smtp takes no context: the connection's deadline is the send's.
	if d, ok := ctx.Deadline(); ok {
		if err := conn.SetDeadline(d); err != nil {
			return err
		}
	}
	c, err := smtp.NewClient(conn, s.c.Host)
	if err != nil {
		return err
	}
	defer c.Close()
	if s.c.TLS == TLSStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return fmt.Errorf("smtp %s offers no STARTTLS (SMTP_TLS=starttls)", addr)
		}
		if err := c.StartTLS(tlsConfig); err != nil {
			return err
		}
	}
	if s.c.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.c.Username, s.c.Password, s.c.Host)); err != nil {
			return err
		}
	}
	if err := c.Mail(s.from.Address); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	// Accepted: whatever QUIT answers, sending again would send it twice.
	_ = c.Quit()
	return nil
}
