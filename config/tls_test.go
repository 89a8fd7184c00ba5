package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeCert writes a self-signed certificate and its key as PEM files.
func writeCert(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "cspulse-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// TestClickHouseTLSKeys: clickhouse.tls takes a CA, a client certificate
// and key, and insecure_skip_verify, as kafka.tls does.
func TestClickHouseTLSKeys(t *testing.T) {
	cert, key := writeCert(t)
	l, err := loadWith(t, "", []string{"CSPULSE_CLICKHOUSE_TLS_CA_FILE=" + cert},
		"--clickhouse.tls.enabled", "--clickhouse.tls.cert_file="+cert, "--clickhouse.tls.key_file="+key,
		"--clickhouse.tls.insecure_skip_verify=true")
	if err != nil {
		t.Fatal(err)
	}
	c := l.Config.ClickHouse.TLS
	if !c.Enabled || !c.InsecureSkipVerify {
		t.Errorf("clickhouse.tls = %+v", c)
	}
	tc, err := c.Build("clickhouse.tls")
	if err != nil {
		t.Fatal(err)
	}
	if tc.RootCAs == nil || len(tc.Certificates) != 1 || !tc.InsecureSkipVerify {
		t.Errorf("tls.Config: RootCAs %v, %d certificates, insecure %v", tc.RootCAs != nil, len(tc.Certificates), tc.InsecureSkipVerify)
	}
	if _, err := (TLS{CAFile: key}).Build("clickhouse.tls"); err == nil {
		t.Error("a key file accepted as CA bundle")
	}
}

// TestOldClickHouseTLSKey: the former boolean clickhouse.tls gets an error
// that says what to write instead.
func TestOldClickHouseTLSKey(t *testing.T) {
	_, err := loadWith(t, "clickhouse:\n  tls: true\n", nil)
	if err == nil || !strings.Contains(err.Error(), "clickhouse.tls.enabled") {
		t.Errorf("err = %v, want a pointer to clickhouse.tls.enabled", err)
	}
}
