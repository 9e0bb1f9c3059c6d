package replication

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"
)

// TestConnectNeverPrintsThePassword: a DSN pgconn cannot parse, and a URL
// whose unencoded '@' would put the password's tail in the host name, fail
// with errors that hold no piece of the password (README: "Passwords never
// appear in logs or errors"), before any connection is tried.
func TestConnectNeverPrintsThePassword(t *testing.T) {
	t.Parallel()
	for _, dsn := range []string{
		"host=127.0.0.1 port=1a user=u password = PGPASS_S3cr3t dbname=d",
		`host=127.0.0.1 port=1a user=u password='it\'s S3cr3t' dbname=d`,
		"postgres://u:AAA@BBB_S3cr3tTAIL@127.0.0.1:1/own",
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err1 := ConnectSQL(ctx, dsn)
		_, err2 := ConnectReplication(ctx, dsn)
		cancel()
		for _, err := range []error{err1, err2} {
			if err == nil || strings.Contains(err.Error(), "S3cr3t") || !strings.Contains(err.Error(), "invalid dsn") {
				t.Errorf("%q: error %v: want an invalid dsn error without the password", dsn, err)
			}
		}
	}
}

// TestCertificateFailureNamesSslrootcert: a server whose certificate no
// trusted CA signed fails with a hint that names sslrootcert and
// sslmode=verify-full (security audit: the hint was generic).
func TestCertificateFailureNamesSslrootcert(t *testing.T) {
	t.Parallel()
	addr := fakeTLSPostgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := ConnectSQL(ctx, "postgres://u:pw@"+addr+"/d?sslmode=verify-full")
	if err == nil || !strings.Contains(err.Error(), "sslrootcert") || !strings.Contains(err.Error(), "verify-full") {
		t.Fatalf("error %v: want a hint naming sslrootcert and sslmode=verify-full", err)
	}
}

// fakeTLSPostgres answers PostgreSQL's SSLRequest with 'S' and a TLS
// handshake with a self-signed certificate, then closes.
func fakeTLSPostgres(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				if _, err := io.ReadFull(c, make([]byte, 8)); err != nil { // SSLRequest
					return
				}
				if _, err := c.Write([]byte("S")); err == nil {
					tls.Server(c, cfg).Handshake()
				}
			}()
		}
	}()
	return ln.Addr().String()
}
