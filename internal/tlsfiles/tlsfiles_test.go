package tlsfiles

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pki is a CA with a server and a client certificate, written as PEM files.
type pki struct {
	dir                   string
	caFile                string
	clientCert, clientKey string
	server                tls.Certificate
	pool                  *x509.CertPool
}

// newPKI generates a CA and two leaf certificates signed by it: one for the
// server "localhost" and one for a client.
func newPKI(t *testing.T) *pki {
	t.Helper()
	p := &pki{dir: t.TempDir()}
	caKey := newKey(t)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "walrelay test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	p.pool = x509.NewCertPool()
	p.pool.AddCert(ca)
	p.caFile = p.write(t, "ca.pem", "CERTIFICATE", caDER)

	leaf := func(serial int64, usage x509.ExtKeyUsage, dns ...string) ([]byte, *ecdsa.PrivateKey) {
		key := newKey(t)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "leaf"}, DNSNames: dns,
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, key
	}
	srvDER, srvKey := leaf(2, x509.ExtKeyUsageServerAuth, "localhost")
	p.server = tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}
	cliDER, cliKey := leaf(3, x509.ExtKeyUsageClientAuth)
	p.clientCert = p.write(t, "client.pem", "CERTIFICATE", cliDER)
	keyDER, err := x509.MarshalPKCS8PrivateKey(cliKey)
	if err != nil {
		t.Fatal(err)
	}
	p.clientKey = p.write(t, "client-key.pem", "PRIVATE KEY", keyDER)
	return p
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func (p *pki) write(t *testing.T, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// handshake runs a TLS handshake between client and a server for
// "localhost" that requires a client certificate signed by p's CA. It
// returns the client's error.
func (p *pki) handshake(t *testing.T, client *tls.Config) error {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		srv := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{p.server},
			ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: p.pool})
		err = srv.Handshake()
		if err == nil {
			_, err = srv.Write([]byte("x"))
		}
		_ = srv.Close()
		done <- err
	}()
	client = client.Clone()
	client.ServerName = "localhost"
	cl, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", ln.Addr().String(), client)
	if err == nil {
		// TLS 1.3 reports a rejected client certificate on the first read.
		_ = cl.SetDeadline(time.Now().Add(5 * time.Second))
		_, err = cl.Read(make([]byte, 1))
		_ = cl.Close()
	}
	if srvErr := <-done; err == nil && srvErr != nil {
		err = srvErr
	}
	return err
}

func TestConfigMutualTLS(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	cfg, err := Config(p.caFile, p.clientCert, p.clientKey, false)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinVersion != tls.VersionTLS12 || cfg.InsecureSkipVerify || len(cfg.Certificates) != 1 || cfg.RootCAs == nil {
		t.Fatalf("config: min %x insecure %v certs %d roots %v", cfg.MinVersion, cfg.InsecureSkipVerify, len(cfg.Certificates), cfg.RootCAs)
	}
	if err := p.handshake(t, cfg); err != nil {
		t.Fatalf("handshake with CA and client certificate: %v", err)
	}
}

func TestConfigFailsHandshakes(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	// Without ca_file the system roots do not know the test CA.
	noCA, err := Config("", p.clientCert, p.clientKey, false)
	if err != nil {
		t.Fatal(err)
	}
	var unknown x509.UnknownAuthorityError
	if err := p.handshake(t, noCA); !errors.As(err, &unknown) {
		t.Errorf("system roots: got %v, want an unknown authority error", err)
	}
	// Without a client certificate the server refuses the handshake.
	noCert, err := Config(p.caFile, "", "", false)
	if err != nil {
		t.Fatal(err)
	}
	if noCert.Certificates != nil {
		t.Errorf("client certificates without cert_file: %d", len(noCert.Certificates))
	}
	if err := p.handshake(t, noCert); err == nil || !strings.Contains(err.Error(), "certificate required") {
		t.Errorf("handshake without a client certificate: got %v, want the server's certificate required alert", err)
	}
	// insecure skips verification of the unknown CA.
	insecure, err := Config("", p.clientCert, p.clientKey, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.handshake(t, insecure); err != nil {
		t.Errorf("insecure: %v", err)
	}
}

func TestConfigFileErrors(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")
	cases := []struct {
		name              string
		ca, cert, key     string
		wantKey, wantPath string
		wantText          string
	}{
		{"missing CA", missing, "", "", "ca_file", missing, "no such file"},
		{"CA without certificates", notPEM, "", "", "ca_file", notPEM, "holds no PEM certificate"},
		{"CA is a key", p.clientKey, "", "", "ca_file", p.clientKey, "holds no PEM certificate"},
		{"cert without key", "", p.clientCert, "", "key_file", `""`, "set both or neither"},
		{"key without cert", "", "", p.clientKey, "cert_file", `""`, "set both or neither"},
		{"missing cert", "", missing, p.clientKey, "cert_file", missing, "no such file"},
		{"missing key", "", p.clientCert, missing, "key_file", missing, "no such file"},
		{"key is not a key", "", p.clientCert, notPEM, "cert_file", p.clientCert, notPEM},
		{"swapped", "", p.clientKey, p.clientCert, "cert_file", p.clientKey, "key_file"},
	}
	for _, c := range cases {
		_, err := Config(c.ca, c.cert, c.key, false)
		var fe *FileError
		if !errors.As(err, &fe) {
			t.Errorf("%s: got %v (%T), want a *FileError", c.name, err, err)
			continue
		}
		if fe.Key != c.wantKey || fe.Path != c.wantPath || !strings.Contains(err.Error(), c.wantText) ||
			!strings.HasPrefix(err.Error(), c.wantKey+" "+c.wantPath+": ") {
			t.Errorf("%s: %q (key %q path %q), want key %q path %q and %q", c.name, err, fe.Key, fe.Path, c.wantKey, c.wantPath, c.wantText)
		}
	}
	if _, err := Config(missing, "", "", false); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing CA: %v does not match fs.ErrNotExist", err)
	}
}

func TestConfigUnreadable(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		// root reads a mode-000 file; a directory is unreadable as a file for everyone.
		dir := t.TempDir()
		if _, err := Config(dir, "", "", false); err == nil || !strings.Contains(err.Error(), "ca_file "+dir) {
			t.Errorf("directory as ca_file: %v", err)
		}
		return
	}
	p := newPKI(t)
	if err := os.Chmod(p.caFile, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := Config(p.caFile, "", "", false); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("unreadable ca_file: %v", err)
	}
}
