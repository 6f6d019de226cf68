// Command csrparse reports what Go's encoding/pem and crypto/x509 see in certificate requests, for the
// differential test in packages/policy/test/differential.test.ts. The signer and the apiserver are Go,
// so Go's reading is the oracle: whatever the TypeScript parser accepts, Go must read the same way.
//
// Input: JSON lines on stdin, one request each:
//
//	{"name": "...", "input": "<base64 of spec.request bytes>"}
//	{"name": "...", "kubelet": {"nodeName": "...", "dnsNames": [...], "ips": [...], "key": "<base64 PKCS#8>"}}
//
// Output: one JSON line per input line, in order. The second form builds a request with
// x509.CreateCertificateRequest exactly as a kubelet does, so the test can compare its builder's bytes.
package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"os"
)

type request struct {
	Name    string          `json:"name"`
	Input   []byte          `json:"input"`
	Kubelet *kubeletRequest `json:"kubelet"`
}

type kubeletRequest struct {
	NodeName string   `json:"nodeName"`
	DNSNames []string `json:"dnsNames"`
	IPs      []string `json:"ips"`
	Key      []byte   `json:"key"`
}

type pemView struct {
	Found       bool              `json:"found"`
	Type        string            `json:"type"`
	Headers     map[string]string `json:"headers"`
	Bytes       []byte            `json:"bytes"`
	Rest        []byte            `json:"rest"`
	SecondBlock bool              `json:"secondBlock"`
}

type atv struct {
	OID        string  `json:"oid"`
	Class      int     `json:"class"`
	Tag        int     `json:"tag"`
	Compound   bool    `json:"compound"`
	ContentHex string  `json:"contentHex"`
	GoString   *string `json:"goString"`
}

type extension struct {
	OID      string `json:"oid"`
	Critical bool   `json:"critical"`
	ValueHex string `json:"valueHex"`
}

type publicKey struct {
	Algorithm string `json:"algorithm"`
	Bits      int    `json:"bits"`
	Curve     string `json:"curve,omitempty"`
	Exponent  int    `json:"exponent,omitempty,string"`
}

type csrView struct {
	Version            int         `json:"version"`
	Subject            [][]atv     `json:"subject"`
	SubjectError       string      `json:"subjectError,omitempty"`
	CommonName         string      `json:"commonName"`
	Organization       []string    `json:"organization"`
	DNSNames           []string    `json:"dnsNames"`
	IPAddresses        []string    `json:"ipAddresses"`
	EmailAddresses     []string    `json:"emailAddresses"`
	URIs               []string    `json:"uris"`
	Extensions         []extension `json:"extensions"`
	PublicKey          publicKey   `json:"publicKey"`
	SignatureAlgorithm string      `json:"signatureAlgorithm"`
	SignatureOK        bool        `json:"signatureOk"`
	SignatureError     string      `json:"signatureError,omitempty"`
	RawTBS             []byte      `json:"rawTbs"`
}

type result struct {
	Name       string   `json:"name"`
	Pem        *pemView `json:"pem,omitempty"`
	ParseOK    bool     `json:"parseOk"`
	ParseError string   `json:"parseError,omitempty"`
	CSR        *csrView `json:"csr,omitempty"`
	Built      []byte   `json:"built,omitempty"`
	Error      string   `json:"error,omitempty"`
}

// The raw shape of a Name, so each value's tag is visible (pkix.RDNSequence drops it).
type rawATV struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue
}
type rawRDNSET []rawATV
type rawRDNSequence []rawRDNSET

func readSubject(raw []byte) ([][]atv, error) {
	var shape rawRDNSequence
	if rest, err := asn1.Unmarshal(raw, &shape); err != nil {
		return nil, err
	} else if len(rest) != 0 {
		return nil, fmt.Errorf("trailing data after subject")
	}
	var values pkix.RDNSequence
	if _, err := asn1.Unmarshal(raw, &values); err != nil {
		return nil, err
	}
	out := make([][]atv, len(shape))
	for i, rdn := range shape {
		out[i] = make([]atv, len(rdn))
		for j, a := range rdn {
			v := atv{
				OID:        a.Type.String(),
				Class:      a.Value.Class,
				Tag:        a.Value.Tag,
				Compound:   a.Value.IsCompound,
				ContentHex: hex.EncodeToString(a.Value.Bytes),
			}
			if s, ok := values[i][j].Value.(string); ok {
				v.GoString = &s
			}
			out[i][j] = v
		}
	}
	return out, nil
}

func describeKey(csr *x509.CertificateRequest) publicKey {
	switch k := csr.PublicKey.(type) {
	case *rsa.PublicKey:
		return publicKey{Algorithm: "RSA", Bits: k.N.BitLen(), Exponent: k.E}
	case *ecdsa.PublicKey:
		return publicKey{Algorithm: "ECDSA", Bits: k.Curve.Params().BitSize, Curve: k.Curve.Params().Name}
	case ed25519.PublicKey:
		return publicKey{Algorithm: "Ed25519", Bits: 256}
	default:
		return publicKey{Algorithm: csr.PublicKeyAlgorithm.String()}
	}
}

func view(csr *x509.CertificateRequest) *csrView {
	v := &csrView{
		Version:            csr.Version,
		CommonName:         csr.Subject.CommonName,
		Organization:       nonNil(csr.Subject.Organization),
		DNSNames:           nonNil(csr.DNSNames),
		EmailAddresses:     nonNil(csr.EmailAddresses),
		IPAddresses:        []string{},
		URIs:               []string{},
		Extensions:         []extension{},
		PublicKey:          describeKey(csr),
		SignatureAlgorithm: csr.SignatureAlgorithm.String(),
		RawTBS:             csr.RawTBSCertificateRequest,
	}
	for _, ip := range csr.IPAddresses {
		v.IPAddresses = append(v.IPAddresses, ip.String())
	}
	for _, u := range csr.URIs {
		v.URIs = append(v.URIs, u.String())
	}
	for _, e := range csr.Extensions {
		v.Extensions = append(v.Extensions, extension{OID: e.Id.String(), Critical: e.Critical, ValueHex: hex.EncodeToString(e.Value)})
	}
	if subject, err := readSubject(csr.RawSubject); err != nil {
		v.SubjectError = err.Error()
	} else {
		v.Subject = subject
	}
	if err := csr.CheckSignature(); err != nil {
		v.SignatureError = err.Error()
	} else {
		v.SignatureOK = true
	}
	return v
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func inspect(req request) result {
	out := result{Name: req.Name}
	block, rest := pem.Decode(req.Input)
	if block == nil {
		out.Pem = &pemView{Found: false, Rest: rest}
		return out
	}
	second, _ := pem.Decode(rest)
	out.Pem = &pemView{Found: true, Type: block.Type, Headers: block.Headers, Bytes: block.Bytes, Rest: rest, SecondBlock: second != nil}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		out.ParseError = err.Error()
		return out
	}
	out.ParseOK = true
	out.CSR = view(csr)
	return out
}

// buildKubelet mirrors k8s.io/client-go/util/certificate: the template a kubelet's serving
// certificate manager fills, passed through x509.CreateCertificateRequest.
func buildKubelet(req request) result {
	out := result{Name: req.Name}
	key, err := x509.ParsePKCS8PrivateKey(req.Kubelet.Key)
	if err != nil {
		out.Error = err.Error()
		return out
	}
	template := &x509.CertificateRequest{
		Subject: pkix.Name{
			CommonName:   "system:node:" + req.Kubelet.NodeName,
			Organization: []string{"system:nodes"},
		},
		DNSNames: req.Kubelet.DNSNames,
	}
	for _, s := range req.Kubelet.IPs {
		template.IPAddresses = append(template.IPAddresses, net.ParseIP(s))
	}
	der, err := x509.CreateCertificateRequest(nil, template, key)
	if err != nil {
		out.Error = err.Error()
		return out
	}
	out.Built = der
	return out
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 16<<20)
	w := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(w)
	defer w.Flush()
	for in.Scan() {
		var req request
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			fmt.Fprintln(os.Stderr, "csrparse: bad input line:", err)
			os.Exit(2)
		}
		var res result
		if req.Kubelet != nil {
			res = buildKubelet(req)
		} else {
			res = inspect(req)
		}
		if err := enc.Encode(res); err != nil {
			fmt.Fprintln(os.Stderr, "csrparse:", err)
			os.Exit(2)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "csrparse:", err)
		os.Exit(2)
	}
}
