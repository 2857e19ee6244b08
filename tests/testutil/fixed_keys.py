"""Fixed private keys for the tests (PKCS#8 PEM, made once with python3-cryptography), so that
every run exercises the same edge cases instead of one run in a hundred: the EC keys have
coordinates that start with a zero byte, which authlib 1.2 and PyJWT 2.6 drop when they write a
JWK (SPEC 2.2 rule 6: the server left-pads them). Test keys only: never use them elsewhere."""

from cryptography.hazmat.primitives import serialization

# RSA 2048, e = 65537.
RSA_PEM = """\
-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDO3Yslj95RYNBB
jIBgII5jZGyjTrZOLKmmRQG3XoSDOfMdI5ej1dmlx2KkzbdJUd3F8s8J40nMIDeW
VyKtobGpQD1QdFqPkF4Z4HCtWiPAby6eM1m9kCrfymdowB0HQG6Ullr4tV6LTwJs
T1894eIyzS15Sis2XjpnBIgOv3nFubjWjzt7fZwJhPnwFnTslzzfl01kcPE0qWFY
zboYTOPlJ83c/+Qt/Z/QnajM2sf+IkrVJpvJfCi38ywiIbeWK4MXnr+HatrCeLzh
Q40xOeFESmRqB/LFHI0cVdCXeT+E4qf1jtJH2dsFzFkYv4HE/BoCPC5dt21h3kpN
fgPCN3J1AgMBAAECggEABalzKEdIiLYrZQvlLJxfgVFrlsmt/DRFPW+IlT4BRv00
TgEeIqYVA7BSHxwhTuCufv8/EvB1YeCk3NjMMm/pRq5jLztMCj9jj/ZAZ0I/FcKF
Rl+17lYOklr+GxQdB0iIbkkyOrnuGUaDlLbUbsNqt0S94KK6zY1lMFIjrjGn8dUv
pMajdjOoIy3ZQgDZ5bbtc1gv/pDjPR5AafBtFyS5gdnu4mQZuLwjPxLJB2W8KTDu
EHgQ5fy3HF0I/JYHxGDTbNXgycgYdl99rYPZlEb4uSZeqnQawI8sQQGdoRs8PGvC
FSR9KfSlrUUF6ZAjGnZTUqKvpBdaDsS0I4QZgX++8QKBgQDm9mL6yBkTsmtFVWH6
bRm7OZtrggI3CkqtAA5MZ9qEwtPa8RtEsJVaa0+n5ZbKNmEOXxHrMu6FMfmupRqb
X3W7e+ZVOon7cv9/QFywy8rCc9G+Er+0mMGnJ65tYN5l9etypAs+x1tvnIlCqSaU
Hctw3aoJaKG74JtcuZFxZs5jJQKBgQDlSmvxOtCg6T7SNCWPkz749RDHH9qK7NMD
0DCQUvUUX/Rv5V2q0uEw/h2AJViIzEXtX9V8GJav9tfv7kWbGlTnBNMM1UMG/Y9t
FNICu8VkqEhv/Z3qX+MKwFSpyo0Znc8jxz704QifcZUf189Z9jHMJmOmeEdx6DHs
FWgOHW9ZEQKBgGxskj7EnPEgOzeLQ7m6ae/4tTudBskr7a6VbiD0SCM3CxmnQnPW
qeaOphBduZIoQRvsCY9uk4a31UzleT4jbDOdkJ3GI2yFqeflIR5mLUNn97jROGnh
pFeCS2JRrVYUQnnJBPZtxED7LXy7x76U1iKgDOjp07NNV+IJw3uHFbB5AoGBAIfU
1q1JUl6Azp5oFfhAGoYRZ6cOz8CNG1Se+KYG/vja/0tqbVrNImqLn55SgWhI2wQM
ScQCLQKBENsqJEIGD1XsHbr0e4ignV7Zfq/v3LgMmRz++ZXmx/GOjpknTP9n5VYk
qr8WsK0D9HuwtT1uA4IVG+N6TZjFHQ3mgIYcGeKBAoGAF9G3EDd7aQa8a5HgaG6y
NmtAq7NVvXltvEreZPtVfq331XPQCYhQQ+ILFXGt16/DhhtxDGJC8nO98OuoYQg4
YNSFHUF/Mz8JeS5TndB1tNJ0eZJP9aWHUtjoFKHTrtAXyOk/FKsESHTBxWZznB9r
TJuArW/lU2JtsFEE9tzkf9o=
-----END PRIVATE KEY-----
"""

# Another RSA 2048 key (a stranger's, or a forger's).
RSA_OTHER_PEM = """\
-----BEGIN PRIVATE KEY-----
MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQC1qe6YaU6TBx4l
e7kPnZWwJMm1Gyg3Q6U6u1xhczAE0io4rE7J2YEYExxt9J6DOT/uUjUy1cx2whfy
jPzLaH/xbVuIwfrxglRABAHIbk2+6zuR/X0prmpCSShLzB1RYz9RvyBXuiZgKFy3
THxvXLSUQ6sQce5n5iKX/L1kWDX+agbctTaojagQO2j9IAQEEX7OWyPlx6+l/kEm
H1LhhiP1xm8KBsHVHThAH04ms79mkOBdqbaNJL3wPj4pXRV3Or7HUmVZenk52ocY
ujYq+ROuEmZBmL+X6n1tn8jxo3m5AQ+Z3iNZnrQXcNGAgZQTiUkRrKsqlvnYZ9/S
QHTPyh/NAgMBAAECggEAKyRsMW3w5yHtmuFDFd5KykYyUPxeFKHP/563Vb1RThPL
SyJAo9cvvVPskIBjlK5n7GVBlQ0JPbrijQvGjVgH6oIaFuRagDh/YaSR99OaSxj6
ULVuoBN30L4m/7k9zTJQu000lSD0NCnhuvZDJv9RM1TOr10fTTVuScIQCGCakgyd
bnwKR4+cWBSqc6EJC4GmquYCdrEn86Wj6jbXLFAnX50KQJ9iNcW6BGDtMJOQUnFs
SMGcQwJg5C3rC4PzjpaOHiJN9aV5a5JymkaGHzDqTA7D1hOR6T0cHRiEw2Et4212
mzer82KS7MuMUSFeV/EW2V7ThJdD4NslMmKll1GaUQKBgQDlHmtzSJFehsxKjeB0
3xhB75EwRGJ+JivPkWUtmn/k+/ZLC9GzJ/bW4vMtpS8Qu3KaceY9bKGoXZFSdG6S
pxAQ/eky9VOv+We4Cbv1b8XMvB3vWMcxu0Ao21IXBd1OOOdBtJZiYOWWDsw1k3Jf
5yVh29ksTrRHBf8OVMvvNfqdnwKBgQDK+jODO8SxoFA4avrtFnRumcLS2qQt7uuE
mPVWHBKexiiqxnQsAD9RvIYKPkP+Pqm1iRvhyxHKZTtw2RGHLfPcnrRUq4vLJH0a
P3bHYYpcxbmEDd6lqmpsWiv6ff/qSilMRcLM1G4CehhSB4vS+c4MA4hpSdhtV7jJ
5hGBB15zEwKBgCnQ4Hl84BMpdPWSaUnLQcke6RevE27ElrBeb+Hf1cG7/pp5wL76
50EW0J0fDbT3ERaA/S1uux5YXWJ4H4oidXs0bDBBuBFg6n4bQLOtv6L7HleFk21P
KImMZbIP/vD8z7AdPmkcGCrH7ptEmtZIAHmYv00n3B0uSfuanFG/P0svAoGANAaZ
eYOyUM0EgtF465gb09V5iE4eUt+wYlZKW/3qD+Q+vDcNw9F0aWDnAm0fRGWPXkZ8
bQ19y+DSsYQR6BIxNVVAZ4to03LQ1g96RHSN4GWVvXFIpjHeAVPDffsZw1Wq7C/d
VF8Gq3/cB/qDLlp1I8MsDcCtxqj7ZlSgG/Bllx0CgYBXgn3mWZZgMI1FysnapFvZ
SkV7uB8yUC4O4ywLj9qZr7of2OQwm7K8/m/H3VXQAMCwruc4QsOkTpVYOk95fkTk
MbV1lKVVlxuVWKzVbs2oGFcW0Q+g8kk722NY1GKr5Uop92zvkzDyheiXxOt9w8jF
p037CnL5akhBvAcakecGJQ==
-----END PRIVATE KEY-----
"""

# P-256 whose x starts with a zero byte (y does not).
P256_PEM = """\
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgUdg/gS1kickbeYi9
8yC01C3aSPHBLRIjzkF1xGs+n3OhRANCAAQA1kbvf8ENcMN4lOFegpsXMqlEMver
RlPRuSIlKI8J/gN5beAQdJNHOPIaAhHSNavwJ8SOPqZCoT+jwier24N4
-----END PRIVATE KEY-----
"""

# P-256 whose y starts with a zero byte (x does not).
P256_Y_PEM = """\
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg4jA7ImyddIEwR2+H
Is7U1nsql2gb0zi94FyCmOcK1P6hRANCAATOj2FuB9mzzemANcL4XNYbeWRZCqJF
37GV0yR91p0EhgB1K2EJSNMDl1Df1kWcJ4VJbJemgVusVMAJPoKOcGQH
-----END PRIVATE KEY-----
"""

# P-384 whose x and y both start with a zero byte.
P384_PEM = """\
-----BEGIN PRIVATE KEY-----
MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDBlTaZGzMzxxYezLnAD
VdrHgeay7bcUseU4OE8glF/sCAHg/HBe9fTaqEt77IJq92mhZANiAAQAcsbbGQPI
5qcaOx9N7gYcb7FyVqiRBHQge3szXvmUGhbMgDERBK1KXZiCfuw+UewAvwVA1YUb
Vlpxz0xcqvjGAtM7/AsTT2hIbhw0KtO3CypffBMRhwQcDD9GZccVCJc=
-----END PRIVATE KEY-----
"""

# Ed25519.
ED25519_PEM = """\
-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIMDetLfUqQfJRYLizbZ4VIBphAmMqzmc3eTzzBpi4Tfw
-----END PRIVATE KEY-----
"""



def load(pem_text):
    """The private key object of one of the PEM texts above."""
    return serialization.load_pem_private_key(pem_text.encode(), password=None)
