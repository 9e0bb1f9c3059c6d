// Package tlsfiles builds a client *tls.Config from PEM files named in
// walrelay's configuration (kafka.tls, schema_registry). It is shared so that
// every client walrelay opens treats CA bundles and client certificates the
// same way and reports a bad file by name.
package tlsfiles

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// FileError is a TLS file that could not be used. Key is the config key's
// last part ("ca_file", "cert_file" or "key_file"), Path the file.
type FileError struct {
	Key  string
	Path string
	Err  error
}

// Error reads "<key> <path>: <reason>", e.g.
// "ca_file /etc/kafka/ca.pem: no such file or directory", so a caller can
// prefix the section: fmt.Errorf("kafka.tls.%w", err).
func (e *FileError) Error() string { return fmt.Sprintf("%s %s: %v", e.Key, e.Path, e.Err) }

func (e *FileError) Unwrap() error { return e.Err }

// Config returns a client TLS configuration with MinVersion TLS 1.2:
// RootCAs from caFile when it is set (the system roots otherwise), a client
// certificate from certFile and keyFile when they are set (both or neither),
// and InsecureSkipVerify as given (the caller warns about it). The files are
// read now, so a missing, unreadable or invalid file fails here; every error
// is a *FileError naming the file.
func Config(caFile, certFile, keyFile string, insecure bool) (*tls.Config, error) {
	t := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: insecure} //nolint:gosec // the caller's choice, logged
	if caFile != "" {
		pool, err := certPool(caFile)
		if err != nil {
			return nil, err
		}
		t.RootCAs = pool
	}
	if certFile != "" || keyFile != "" {
		cert, err := keyPair(certFile, keyFile)
		if err != nil {
			return nil, err
		}
		t.Certificates = []tls.Certificate{cert}
	}
	return t, nil
}

// certPool reads a PEM bundle that must hold at least one certificate.
func certPool(caFile string) (*x509.CertPool, error) {
	pem, err := readFile("ca_file", caFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, &FileError{Key: "ca_file", Path: caFile, Err: errors.New("holds no PEM certificate")}
	}
	return pool, nil
}

// keyPair loads a client certificate and its private key.
func keyPair(certFile, keyFile string) (tls.Certificate, error) {
	switch {
	case certFile == "":
		return tls.Certificate{}, &FileError{Key: "cert_file", Path: `""`, Err: fmt.Errorf("missing while key_file %s is set; set both or neither", keyFile)}
	case keyFile == "":
		return tls.Certificate{}, &FileError{Key: "key_file", Path: `""`, Err: fmt.Errorf("missing while cert_file %s is set; set both or neither", certFile)}
	}
	certPEM, err := readFile("cert_file", certFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyPEM, err := readFile("key_file", keyFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, &FileError{Key: "cert_file", Path: certFile, Err: fmt.Errorf("with key_file %s: %w", keyFile, err)}
	}
	return cert, nil
}

// readFile reads path, naming key and path in the error (without repeating
// the path that *fs.PathError carries).
func readFile(key, path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &FileError{Key: key, Path: path, Err: err}
	}
	return b, nil
}
