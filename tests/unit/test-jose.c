/*
 * test-jose.c - unit tests of lib/jose.c, jwk.c, jws.c and jwe.c against
 * published vectors (RFC 3394, 7515, 7517, 7518, 7520, 7638, 8037) and
 * against what an independent implementation wrote:
 * tests/fixtures/jose-fixtures.json, made by
 * tests/fixtures/make-jose-fixtures.py with python joserfc.
 * The fixture directory is $CA_FIXTURES (default "tests/fixtures").
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "ca.h"
#include "json.h"
#include "jose.h"
#include "jose-internal.h"
#include "tap.h"

/* RFC 7515 A.2 (RS256): the RSA key and the JWS. */
static const char a2_jwk[] =
    "{\"kty\":\"RSA\",\"n\":\"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcy"
    "QoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-S"
    "Fd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf"
    "63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtd"
    "VMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9"
    "_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ\",\"e\":\"AQAB\""
    ",\"d\":\"Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO"
    "97IjlA7_GQ5sLKMgvfTeXZx9SE-7YwVol2NXOoAJe46sui395IW_GO-pWJ1O0BkT"
    "GoVEn2bKVRUCgu-GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn439X0M_V5"
    "1gfpRLI9JYanrC4D4qAdGcopV_0ZHHzQlBjudU2QvXt4ehNYTCBr6XCLQUShb1ju"
    "UO1ZdiYoFaFQT5Tw8bGUl_x_jTj3ccPDVZFD9pIuhLhBOneufuBiB4cS98l2SR_R"
    "QyGWSeWjnczT0QU91p1DhOVRuOopznQ\",\"p\":\"4BzEEOtIpmVdVEZNCqS7ba"
    "C4crd0pqnRH_5IB3jw3bcxGn6QLvnEtfdUdiYrqBdss1l58BQ3KhooKeQTa9AB0H"
    "w_Py5PJdTJNPY8cQn7ouZ2KKDcmnPGBY5t7yLc1QlQ5xHdwW1VhvKn-nXqhJTBgI"
    "PgtldC-KDV5z-y2XDwGUc\",\"q\":\"uQPEfgmVtjL0Uyyx88GZFF1fOunH3-7c"
    "epKmtH4pxhtCoHqpWmT8YAmZxaewHgHAjLYsp1ZSe7zFYHj7C6ul7TjeLQeZD_Yw"
    "D66t62wDmpe_HlB-TnBA-njbglfIsRLtXlnDzQkv5dTltRJ11BKBBypeeF6689rj"
    "cJIDEz9RWdc\",\"dp\":\"BwKfV3Akq5_MFZDFZCnW-wzl-CCo83WoZvnLQwCTe"
    "Dv8uzluRSnm71I3QCLdhrqE2e9YkxvuxdBfpT_PI7Yz-FOKnu1R6HsJeDCjn12Sk"
    "3vmAktV2zb34MCdy7cpdTh_YVr7tss2u6vneTwrA86rZtu5Mbr1C1XsmvkxHQAdY"
    "o0\",\"dq\":\"h_96-mK1R_7glhsum81dZxjTnYynPbZpHziZjeeHcXYsXaaMwk"
    "OlODsWa7I9xXDoRwbKgB719rrmI2oKr6N3Do9U0ajaHF-NKJnwgjMd2w9cjz3_-k"
    "yNlxAr2v4IKhGNpmM5iIgOS1VZnOZ68m6_pbLBSp3nssTdlqvd0tIiTHU\",\"qi"
    "\":\"IYd7DHOhrWvxkwPQsRM2tOgrjbcrfvtQJipd-DlcxyVuuM9sQLdgjVk2oy2"
    "6F0EmpScGLq2MowX7fhd_QJQ3ydy5cY7YIBi87w93IKLEdfnbJtoOPLUW0ITrJRe"
    "Ogo1cq9SbsxYawBgfp_gh6A5603k2-ZQwVK0JKSHuLFkuQ3U\"}";
static const char a2_jws[] =
    "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODA"
    "sDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.cC4hiUPoj9Ee"
    "tdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Q"
    "c_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--"
    "f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN"
    "9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6I"
    "eYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypG"
    "lUPQGe77Rw";

/* RFC 7515 A.3 (ES256). */
static const char a3_jwk[] =
    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1"
    "gHMzV76e8Tus9uPHvRVEU\",\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCySt"
    "ikYjKIWI5a0\",\"d\":\"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9L"
    "I\"}";
static const char a3_jws[] =
    "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODA"
    "sDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.DtEhU3ljbEg8"
    "L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqP"
    "P3-Kg6NU1Q";
static const char a3_x[] = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
static const char a3_y[] = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
static const char a3_d[] = "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI";
/* The JWT of RFC 7515 A.1 to A.3, with its CR LF line breaks. */
static const char a3_payload[] =
    "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n"
    " \"http://example.com/is_root\":true}";

/* RFC 7515 A.4 (ES512, P-521). */
static const char a4_jwk[] =
    "{\"kty\":\"EC\",\"crv\":\"P-521\",\"x\":\"AekpBQ8ST8a8VcfVOTNl35"
    "3vSrDCLLJXmPk06wTjxrrjcBpXp5EOnYG_NjFZ6OvLFV1jSfS9tsz4qUxcWceqwQ"
    "Gk\",\"y\":\"ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2Th-x3S1W"
    "DhjDly79ajL4Kkd0AZMaZmh9ubmf63e3kyMj2\",\"d\":\"AY5pb7A0UFiB3REL"
    "SD64fTLOSV_jazdF7fLYyuTw8lOfRhWg6Y6rUrPAxerEzgdRhajnu0ferB0d53vM"
    "9mE15j2C\"}";
static const char a4_jws[] =
    "eyJhbGciOiJFUzUxMiJ9.UGF5bG9hZA.AdwMgeerwtHoh-l192l60hp9wAHZFVJb"
    "LfD_UxMi70cwnZOYaRI1bKPWROc-mZZqwqT2SI-KGDKB34XO0aw_7XdtAG8GaSwF"
    "KdCAPZgoXD2YBJZCPEX3xKpRwcdOO8KpEHwJjyqOgzDO7iKvU8vcnwNrmxYbSW9E"
    "RBXukOXolLzeO_Jn";

static const char a4_y[] =
    "ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2Th-x3S1WDhjDly79ajL4K"
    "kd0AZMaZmh9ubmf63e3kyMj2";
static const char a4_d[] =
    "AY5pb7A0UFiB3RELSD64fTLOSV_jazdF7fLYyuTw8lOfRhWg6Y6rUrPAxerEzgdR"
    "hajnu0ferB0d53vM9mE15j2C";

/* RFC 8037 A.1 (Ed25519 key), A.3 (thumbprint), A.4 (JWS). */
static const char ed_x[] = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
static const char ed_d[] = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
static const char ed_thumbprint[] =
    "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";
static const char ed_payload[] = "Example of Ed25519 signing";
static const char ed_jws[] =
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt"
    "9g7sVvpAr_MuM0KAg";

/* RFC 7638 3.1. */
static const char rfc7638_jwk[] =
    "{\"kty\":\"RSA\",\"n\":\"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2ai"
    "AFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCi"
    "FV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-6"
    "5YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5haj"
    "rn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINH"
    "aQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw\",\"e\":\"AQAB\""
    ",\"alg\":\"RS256\",\"kid\":\"2011-04-29\"}";

/*
 * RFC 7517 C.7: an RSA private JWK under PBES2-HS256+A128KW and
 * A128CBC-HS256. The thumbprint was computed with python joserfc.
 */
static const char rfc7517c_password[] =
    "Thus from my lips, by yours, my sin is purged.";
static const char rfc7517c_jwe[] =
    "eyJhbGciOiJQQkVTMi1IUzI1NitBMTI4S1ciLCJwMnMiOiIyV0NUY0paMVJ2ZF9D"
    "SnVKcmlwUTF3IiwicDJjIjo0MDk2LCJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiY3R5"
    "IjoiandrK2pzb24ifQ.TrqXOwuNUfDV9VPTNbyGvEJ9JMjefAVn-TR1uIxR9p6hs"
    "RQh9Tk7BA.Ye9j1qs22DmRSAddIh-VnA.AwhB8lxrlKjFn02LGWEqg27H4Tg9fyZ"
    "AbFv3p5ZicHpj64QyHC44qqlZ3JEmnZTgQowIqZJ13jbyHB8LgePiqUJ1hf6M2HP"
    "Lgzw8L-mEeQ0jvDUTrE07NtOerBk8bwBQyZ6g0kQ3DEOIglfYxV8-FJvNBYwbqN1"
    "Bck6d_i7OtjSHV-8DIrp-3JcRIe05YKy3Oi34Z_GOiAc1EK21B11c_AE11PII_wv"
    "vtRiUiG8YofQXakWd1_O98Kap-UgmyWPfreUJ3lJPnbD4Ve95owEfMGLOPflo2Mn"
    "jaTDCwQokoJ_xplQ2vNPz8iguLcHBoKllyQFJL2mOWBwqhBo9Oj-O800as5mmLsv"
    "QMTflIrIEbbTMzHMBZ8EFW9fWwwFu0DWQJGkMNhmBZQ-3lvqTc-M6-gWA6D8PDhO"
    "NfP2Oib2HGizwG1iEaX8GRyUpfLuljCLIe1DkGOewhKuKkZh04DKNM5Nbugf2atm"
    "U9OP0Ldx5peCUtRG1gMVl7Qup5ZXHTjgPDr5b2N731UooCGAUqHdgGhg0JVJ_ObC"
    "TdjsH4CF1SJsdUhrXvYx3HJh2Xd7CwJRzU_3Y1GxYU6-s3GFPbirfqqEipJDBTHp"
    "coCmyrwYjYHFgnlqBZRotRrS95g8F95bRXqsaDY7UgQGwBQBwy665d0zpvTasvfX"
    "f_c0MWAl-neFaKOW_Px6g4EUDjG1GWSXV9cLStLw_0ovdApDIFLHYHePyagyHjou"
    "QUuGiq7BsYwYrwaF06tgB8hV8omLNfMEmDPJaZUzMuHw6tBDwGkzD-tS_ub9hxrp"
    "J4UsOWnt5rGUyoN2N_c1-TQlXxm5oto14MxnoAyBQBpwIEgSH3Y4ZhwKBhHPjSo0"
    "cdwuNdYbGPpb-YUvF-2NZzODiQ1OvWQBRHSbPWYz_xbGkgD504LRtqRwCO7CC_Cy"
    "yURi1sEssPVsMJRX_U4LFEOc82TiDdqjKOjRUfKK5rqLi8nBE9soQ0DSaOoFQZiG"
    "rBrqxDsNYiAYAmxxkos-i3nX4qtByVx85sCE5U_0MqG7COxZWMOPEFrDaepUV-cO"
    "yrvoUIng8i8ljKBKxETY2BgPegKBYCxsAUcAkKamSCC9AiBxA0UOHyhTqtlvMksO"
    "7AEhNC2-YzPyx1FkhMoS4LLe6E_pFsMlmjA6P1NSge9C5G5tETYXGAn6b1xZbHtm"
    "wrPScro9LWhVmAaA7_bxYObnFUxgWtK4vzzQBjZJ36UTk4OTB-JvKWgfVWCFsaw5"
    "WCHj6Oo4jpO7d2yN7WMfAj2hTEabz9wumQ0TMhBduZ-QON3pYObSy7TSC1vVme0N"
    "JrwF_cJRehKTFmdlXGVldPxZCplr7ZQqRQhF8JP-l4mEQVnCaWGn9ONHlemczGOS"
    "-A-wwtnmwjIB1V_vgJRf4FdpV-4hUk4-QLpu3-1lWFxrtZKcggq3tWTduRo5_Qeb"
    "QbUUT_VSCgsFcOmyWKoj56lbxthN19hq1XGWbLGfrrR6MWh23vk01zn8FVwi7uFw"
    "EnRYSafsnWLa1Z5TpBj9GvAdl2H9NHwzpB5NqHpZNkQ3NMDj13Fn8fzO0JB83Etb"
    "m_tnFQfcb13X3bJ15Cz-Ww1MGhvIpGGnMBT_ADp9xSIyAM9dQ1yeVXk-AIgWBUlN"
    "5uyWSGyCxp0cJwx7HxM38z0UIeBu-MytL-eqndM7LxytsVzCbjOTSVRmhYEMIzUA"
    "nS1gs7uMQAGRdgRIElTJESGMjb_4bZq9s6Ve1LKkSi0_QDsrABaLe55UY0zF4ZSf"
    "OV5PMyPtocwV_dcNPlxLgNAD1BFX_Z9kAdMZQW6fAmsfFle0zAoMe4l9pMESH0JB"
    "4sJGdCKtQXj1cXNydDYozF7l8H00BV_Er7zd6VtIw0MxwkFCTatsv_R-GsBCH218"
    "RgVPsfYhwVuT8R4HarpzsDBufC4r8_c8fc9Z278sQ081jFjOja6L2x0N_ImzFNXU"
    "6xwO-Ska-QeuvYZ3X_L31ZOX4Llp-7QSfgDoHnOxFv1Xws-D5mDHD3zxOup2b2Tp"
    "pdKTZb9eW2vxUVviM8OI9atBfPKMGAOv9omA-6vv5IxUH0-lWMiHLQ_g8vnswp-J"
    "av0c4t6URVUzujNOoNd_CBGGVnHiJTCHl88LQxsqLHHIu4Fz-U2SGnlxGTj0-ihi"
    "t2ELGRv4vO8E1BosTmf0cx3qgG0Pq0eOLBDIHsrdZ_CCAiTc0HVkMbyq1M6qEhM-"
    "q5P6y1QCIrwg.0HFmhOzsQ98nNWJjIHkR7A";
static const char rfc7517c_thumbprint[] =
    "D8R4-FeTJfzuDUy8bZ0c4hcwpul-Q11gCPs3mw6-R9Q";

/*
 * RFC 7520 5.3: a JWK set under PBES2-HS512+A256KW and A128CBC-HS256; the
 * password has two U+2013 EN DASHes.
 */
static const char rfc7520_password[] =
    "entrap_o\xe2\x80\x93" "peter_long\xe2\x80\x93" "credit_tun";
static const char rfc7520_jwe[] =
    "eyJhbGciOiJQQkVTMi1IUzUxMitBMjU2S1ciLCJwMnMiOiI4UTFTemluYXNSM3hj"
    "aFl6NlpaY0hBIiwicDJjIjo4MTkyLCJjdHkiOiJqd2stc2V0K2pzb24iLCJlbmMi"
    "OiJBMTI4Q0JDLUhTMjU2In0.d3qNhUWfqheyPp4H8sjOWsDYajoej4c5Je6rlUtF"
    "PWdgtURtmeDV1g.VBiCzVHNoLiR3F4V82uoTQ.23i-Tb1AV4n0WKVSSgcQrdg6GR"
    "qsUKxjruHXYsTHAJLZ2nsnGIX86vMXqIi6IRsfywCRFzLxEcZBRnTvG3nhzPk0GD"
    "D7FMyXhUHpDjEYCNA_XOmzg8yZR9oyjo6lTF6si4q9FZ2EhzgFQCLO_6h5EVg3vR"
    "75_hkBsnuoqoM3dwejXBtIodN84PeqMb6asmas_dpSsz7H10fC5ni9xIz424givB"
    "1YLldF6exVmL93R3fOoOJbmk2GBQZL_SEGllv2cQsBgeprARsaQ7Bq99tT80coH8"
    "ItBjgV08AtzXFFsx9qKvC982KLKdPQMTlVJKkqtV4Ru5LEVpBZXBnZrtViSOgyg6"
    "AiuwaS-rCrcD_ePOGSuxvgtrokAKYPqmXUeRdjFJwafkYEkiuDCV9vWGAi1DH2xT"
    "afhJwcmywIyzi4BqRpmdn_N-zl5tuJYyuvKhjKv6ihbsV_k1hJGPGAxJ6wUpmwC4"
    "PTQ2izEm0TuSE8oMKdTw8V3kobXZ77ulMwDs4p.0HlwodAhOCILG5SQ2LQ9dg";

static int
has_msg(const char *s)
{
	if (strstr(ca_errmsg(), s) != NULL)
		return 1;
	printf("# message \"%s\" lacks \"%s\"\n", ca_errmsg(), s);
	return 0;
}

static struct ca_jwk *
jwk(const char *s)
{
	struct ca_jwk *k;

	if (ca_jwk_parse(s, strlen(s), &k) != 0)
		printf("# %s\n", ca_errmsg());
	return k;
}

/* Status of ca_jwk_parse() on s; the key is freed. */
static int
jwk_rc(const char *s)
{
	struct ca_jwk *k;
	int rc;

	rc = ca_jwk_parse(s, strlen(s), &k);
	ca_jwk_free(k);
	return rc;
}

/* The public half of k, through JSON. */
static struct ca_jwk *
public_of(const struct ca_jwk *k)
{
	struct json_object *o;
	struct ca_jwk *pub = NULL;

	if (k == NULL || ca_jwk_to_json(k, 0, &o) != 0)
		return NULL;
	if (ca_jwk_from_json(o, &pub) != 0)
		printf("# %s\n", ca_errmsg());
	json_object_put(o);
	return pub;
}

/* A string member of k's JSON export, or NULL. Caller frees. */
static char *
member(const struct ca_jwk *k, int private, const char *name)
{
	struct json_object *o;
	const char *s;
	char *r = NULL;

	if (k == NULL || ca_jwk_to_json(k, private, &o) != 0)
		return NULL;
	if (ca_json_string(o, name, 0, &s) == 0)
		r = strdup(s);
	json_object_put(o);
	return r;
}

static int
verify(const char *token, const struct ca_jwk *k)
{
	struct ca_jws *jws;
	int rc;

	if (k == NULL)
		return -100;
	if ((rc = ca_jws_parse(token, strlen(token), &jws)) != 0)
		return rc;
	rc = ca_jws_verify(jws, k);
	ca_jws_free(jws);
	return rc;
}

static char *
b64s(const char *s)
{
	return ca_b64url_encode(s, strlen(s));
}

/* token with its part i replaced by repl (freed). Caller frees. */
static char *
with_part(const char *token, int i, char *repl)
{
	const char *p = token, *e;
	char *r, *o;
	size_t n;
	int k;

	if ((r = o = malloc(strlen(token) + strlen(repl) + 1)) == NULL)
		abort();
	for (k = 0; p != NULL; k++) {
		e = strchr(p, '.');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (k > 0)
			*o++ = '.';
		memcpy(o, k == i ? repl : p, k == i ? strlen(repl) : n);
		o += k == i ? strlen(repl) : n;
		p = e != NULL ? e + 1 : NULL;
	}
	*o = '\0';
	free(repl);
	return r;
}

/* token with the raw signature sig. */
static char *
with_sig(const char *token, const unsigned char *sig, size_t len)
{
	return with_part(token, 2, ca_b64url_encode(sig, len));
}

static unsigned char *
unhex(const char *s, size_t *len)
{
	unsigned char *b;

	if (ca_unhex(s, &b, len) != 0)
		abort();
	return b;
}

static void
test_b64url(void)
{
	static const char *const v[][2] = {
		{ "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg" }, { "fooba", "Zm9vYmE" },
		{ "foobar", "Zm9vYmFy" },
	};
	static const char *const bad[][2] = {
		{ "Zg==", "padding" }, { "Zg=", "partial padding" },
		{ "Zm9v\n", "a newline" }, { " Zm9v", "a leading space" },
		{ "Zm 9v", "an inner space" }, { "Zm+v", "+" }, { "Zm/v", "/" },
		{ "Z", "one character" }, { "Zm9vY", "4n+1 characters" },
		{ "Zh", "Zh (trailing bits)" },
		{ "Zm9", "Zm9 (trailing bits)" },
		{ "Zm9v*", "*" }, { "Zm9v\xc3\xa9", "non-ASCII" },
	};
	static const unsigned char hi[] = { 0xfb, 0xff, 0xbf };
	unsigned char all[256], *d;
	char *e;
	size_t i, n, len;
	int good;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		e = ca_b64url_encode(v[i][0], strlen(v[i][0]));
		is_str(e, v[i][1], "base64url encode \"%s\"", v[i][0]);
		free(e);
		ok(ca_b64url_decode(v[i][1], strlen(v[i][1]), &d, &len) == 0 &&
		    len == strlen(v[i][0]) && memcmp(d, v[i][0], len) == 0 &&
		    d[len] == '\0', "base64url decode \"%s\"", v[i][1]);
		free(d);
	}
	e = ca_b64url_encode(hi, sizeof(hi));
	is_str(e, "-_-_", "base64url uses - and _");
	free(e);

	for (i = 0; i < sizeof(all); i++)
		all[i] = (unsigned char)i;
	for (n = 0, good = 1; n <= sizeof(all); n++) {
		e = ca_b64url_encode(all + sizeof(all) - n, n);
		if (e == NULL || strchr(e, '=') != NULL ||
		    ca_b64url_decode(e, strlen(e), &d, &len) != 0 ||
		    len != n || memcmp(d, all + sizeof(all) - n, n) != 0)
			good = 0;
		else
			free(d);
		free(e);
	}
	ok(good, "base64url round trips of 0 to 256 bytes, all byte values");

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		is_int(ca_b64url_decode(bad[i][0], strlen(bad[i][0]), &d, &len),
		    CA_ERR_INVAL, "base64url refuses %s", bad[i][1]);
		ok(d == NULL && len == 0, "  and clears its results");
	}
	is_int(ca_b64url_decode("Zm\0v", 4, &d, &len), CA_ERR_INVAL,
	    "base64url refuses a NUL byte");
	ok(ca_b64url_decode("Zh", 2, &d, &len) != 0 &&
	    has_msg("trailing bits"), "  non-zero trailing bits named");
}

static void
test_rfc7515_es256(void)
{
	static const unsigned char p256_n[32] = {
		0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84,
		0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
	};
	struct ca_jwk *k = jwk(a3_jwk), *pub = public_of(k);
	struct ca_jws *jws = NULL;
	unsigned char sig[65], *orig;
	size_t olen;
	char *t, *s, buf[512];

	ok(k != NULL && ca_jwk_is_private(k), "RFC 7515 A.3 private JWK");
	ok(pub != NULL && !ca_jwk_is_private(pub), "  its public half");
	if (k == NULL || pub == NULL)
		goto out;
	is_str(ca_jwk_alg(k), "ES256", "  alg defaults to ES256");
	ok(ca_jwk_kid(k) == NULL, "  no kid in the JWK, none made up");
	is_int(verify(a3_jws, pub), 0, "A.3 JWS verifies with the public key");
	is_int(verify(a3_jws, k), 0, "  and with the private JWK");
	ok(ca_jws_parse(a3_jws, strlen(a3_jws), &jws) == 0 &&
	    jws->payload_len == strlen(a3_payload) &&
	    memcmp(jws->payload, a3_payload, jws->payload_len) == 0 &&
	    jws->signing_input_len == (size_t)(strrchr(a3_jws, '.') - a3_jws) &&
	    strncmp(jws->signing_input, a3_jws, jws->signing_input_len) == 0,
	    "  payload and signing input as in the RFC");
	ca_jws_free(jws);

	t = with_part(a3_jws, 1, b64s("{\"iss\":\"joe\",\r\n "
	    "\"exp\":1300819381,\r\n \"http://example.com/is_root\":true}"));
	is_int(verify(t, pub), CA_ERR_AUTH, "tampered payload fails");
	free(t);
	t = with_part(a3_jws, 0, b64s("{\"alg\":\"ES384\"}"));
	is_int(verify(t, pub), CA_ERR_AUTH, "header alg ES384 fails");
	ok(has_msg("is not the key's"), "  as an algorithm mismatch");
	free(t);
	t = with_part(a3_jws, 0, b64s("{\"alg\":\"RS256\"}"));
	is_int(verify(t, pub), CA_ERR_AUTH, "header alg RS256 fails");
	free(t);
	t = with_part(a3_jws, 0, b64s("{\"alg\":\"none\"}"));
	is_int(verify(t, pub), CA_ERR_AUTH, "alg none refused at parse");
	ok(has_msg("unsigned"), "  as unsigned");
	free(t);
	t = with_part(a3_jws, 0, b64s("{\"alg\":\"HS256\"}"));
	is_int(verify(t, pub), CA_ERR_AUTH, "alg HS256 refused at parse");
	free(t);
	t = with_part(a3_jws, 0, b64s("{\"alg\":\"ES256\",\"alg\":\"ES256\"}"));
	is_int(verify(t, pub), CA_ERR_INVAL, "duplicate header member refused");
	free(t);
	t = with_part(a3_jws, 0, b64s("{\"alg\":\"ES256\",\"crit\":[\"exp\"],"
	    "\"exp\":1}"));
	is_int(verify(t, pub), CA_ERR_INVAL, "crit header refused");
	free(t);
	t = with_part(a3_jws, 0, b64s("[\"ES256\"]"));
	is_int(verify(t, pub), CA_ERR_INVAL, "header not an object refused");
	free(t);
	t = with_part(a3_jws, 0, b64s("{\"alg\":256}"));
	is_int(verify(t, pub), CA_ERR_INVAL, "non-string alg refused");
	free(t);
	t = with_part(a3_jws, 0, b64s(" {\"alg\":\"ES256\"}\n"));
	ok(ca_jws_parse(t, strlen(t), &jws) == 0 &&
	    strncmp(jws->signing_input, t, jws->signing_input_len) == 0 &&
	    t[jws->signing_input_len] == '.', "header with white space parses, "
	    "signing input kept as received");
	ca_jws_free(jws);
	is_int(verify(t, pub), CA_ERR_AUTH, "  (and no longer verifies)");
	free(t);
	snprintf(buf, sizeof(buf), "%s.", a3_jws);
	is_int(verify(buf, pub), CA_ERR_INVAL, "four parts refused");
	is_int(verify(strchr(a3_jws, '.') + 1, pub), CA_ERR_INVAL,
	    "two parts refused");
	t = with_part(a3_jws, 2, strdup(""));
	is_int(verify(t, pub), CA_ERR_INVAL, "empty signature refused");
	free(t);
	if ((t = malloc(CA_MAX_TOKEN + 2)) != NULL) {
		memset(t, 'a', CA_MAX_TOKEN + 1);
		t[CA_MAX_TOKEN + 1] = '\0';
		is_int(ca_jws_parse(t, strlen(t), &jws), CA_ERR_TOOBIG,
		    "over-long JWS refused");
		ok(jws == NULL, "  result cleared");
		free(t);
	}

	/* Signature values. */
	if (ca_b64url_decode(strrchr(a3_jws, '.') + 1,
	    strlen(strrchr(a3_jws, '.') + 1), &orig, &olen) != 0 || olen != 64)
		abort();
	memset(sig, 0, sizeof(sig));
	t = with_sig(a3_jws, sig, 64);
	is_int(verify(t, pub), CA_ERR_AUTH, "r = s = 0 refused");
	ok(has_msg("out of range"), "  before GnuTLS sees it");
	free(t);
	memcpy(sig, orig, 32);
	t = with_sig(a3_jws, sig, 64);
	is_int(verify(t, pub), CA_ERR_AUTH, "s = 0 refused");
	free(t);
	memcpy(sig, p256_n, 32);
	memcpy(sig + 32, orig + 32, 32);
	t = with_sig(a3_jws, sig, 64);
	is_int(verify(t, pub), CA_ERR_AUTH, "r = n refused");
	ok(has_msg("r out of range"), "  as out of range");
	free(t);
	memset(sig, 0xff, 32);
	t = with_sig(a3_jws, sig, 64);
	is_int(verify(t, pub), CA_ERR_AUTH, "r > n refused");
	ok(has_msg("r out of range"), "  as out of range");
	free(t);
	memcpy(sig, orig, 32);
	memcpy(sig + 32, p256_n, 32);
	t = with_sig(a3_jws, sig, 64);
	is_int(verify(t, pub), CA_ERR_AUTH, "s = n refused");
	ok(has_msg("s out of range"), "  as out of range");
	free(t);
	memcpy(sig, p256_n, 32);
	sig[31]--;
	memcpy(sig + 32, orig + 32, 32);
	t = with_sig(a3_jws, sig, 64);
	is_int(verify(t, pub), CA_ERR_AUTH, "r = n - 1 (in range) fails");
	ok(has_msg("verification failed"), "  in GnuTLS");
	free(t);
	t = with_sig(a3_jws, orig, 63);
	is_int(verify(t, pub), CA_ERR_AUTH, "63-byte signature refused");
	free(t);
	memcpy(sig, orig, 64);
	sig[64] = 0;
	t = with_sig(a3_jws, sig, 65);
	is_int(verify(t, pub), CA_ERR_AUTH, "65-byte signature refused");
	free(t);
	free(orig);

	/* Signing and export. */
	ok(ca_jws_sign(k, NULL, a3_payload, strlen(a3_payload), &t) == 0 &&
	    strncmp(t, "eyJhbGciOiJFUzI1NiJ9.", 21) == 0 &&
	    strlen(strrchr(t, '.') + 1) == 86, "ES256 signing: R || S of "
	    "64 bytes");
	is_int(verify(t, pub), 0, "  verifies");
	free(t);
	s = member(k, 0, "x");
	is_str(s, a3_x, "export x");
	free(s);
	s = member(k, 0, "y");
	is_str(s, a3_y, "export y");
	free(s);
	s = member(k, 0, "d");
	ok(s == NULL, "public export has no d");
	free(s);
	s = member(k, 1, "d");
	is_str(s, a3_d, "private export d");
	free(s);
	s = member(pub, 1, "d");
	ok(s == NULL, "private export of a public key has no d");
	free(s);
	s = member(k, 0, "use");
	is_str(s, "sig", "export use sig");
	free(s);

	/* Import checks. */
	snprintf(buf, sizeof(buf), "{\"kty\":\"EC\",\"crv\":\"P-256\","
	    "\"x\":\"%.42s\",\"y\":\"%s\"}", a3_x, a3_y);
	is_int(jwk_rc(buf), CA_ERR_INVAL, "x of 31 bytes refused");
	snprintf(buf, sizeof(buf), "{\"kty\":\"EC\",\"crv\":\"P-256\","
	    "\"x\":\"AA%s\",\"y\":\"%s\"}", a3_x, a3_y);
	is_int(jwk_rc(buf), CA_ERR_INVAL, "x of 33 bytes refused");
	snprintf(buf, sizeof(buf), "{\"kty\":\"EC\",\"crv\":\"P-256\","
	    "\"x\":\"%s\",\"y\":\"%.42sw\"}", a3_x, a3_y);
	is_int(jwk_rc(buf), CA_ERR_INVAL, "point not on the curve refused");
	snprintf(buf, sizeof(buf), "{\"kty\":\"EC\",\"crv\":\"P-256\","
	    "\"x\":\"%s\",\"y\":\"%s\",\"d\":\"%s\"}", a3_x, a3_y, ed_d);
	is_int(jwk_rc(buf), CA_ERR_INVAL, "d of another key refused");
	snprintf(buf, sizeof(buf), "{\"kty\":\"EC\",\"crv\":\"P-256\","
	    "\"x\":\"%s\"}", a3_x);
	is_int(jwk_rc(buf), CA_ERR_INVAL, "missing y refused");
	snprintf(buf, sizeof(buf), "{\"kty\":\"EC\",\"crv\":\"P-256\","
	    "\"x\":\"%s\",\"y\":\"%s\",\"alg\":\"ES384\"}", a3_x, a3_y);
	is_int(jwk_rc(buf), CA_ERR_INVAL, "alg ES384 on P-256 refused");
	snprintf(buf, sizeof(buf), "{\"kty\":\"EC\",\"crv\":\"P-256\","
	    "\"x\":\"%s\",\"y\":\"%s\",\"alg\":\"ES256\",\"kid\":\"k1\"}",
	    a3_x, a3_y);
	is_int(jwk_rc(buf), 0, "alg ES256 and kid accepted");
	snprintf(buf, sizeof(buf), "{\"kty\":\"EC\",\"crv\":\"secp256k1\","
	    "\"x\":\"%s\",\"y\":\"%s\"}", a3_x, a3_y);
	is_int(jwk_rc(buf), CA_ERR_INVAL, "curve secp256k1 refused");
	snprintf(buf, sizeof(buf), "{\"kty\":\"EC\",\"crv\":\"P-256\","
	    "\"x\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"}", a3_x, a3_x, a3_y);
	is_int(jwk_rc(buf), CA_ERR_INVAL, "duplicate member refused");
	is_int(jwk_rc("{\"kty\":\"oct\",\"k\":\"AAAA\"}"), CA_ERR_INVAL,
	    "kty oct refused");
	is_int(jwk_rc("[]"), CA_ERR_INVAL, "JWK not an object refused");
 out:
	ca_jwk_free(k);
	ca_jwk_free(pub);
}

static void
test_rfc7515_rs256(void)
{
	static const char *const crt[] = { "n", "e", "d", "p", "q", "dp",
	    "dq", "qi" };
	struct ca_jwk *k = jwk(a2_jwk), *pub = public_of(k), *ps;
	struct json_object *o = NULL;
	const char *want;
	unsigned char *sig, big[128];
	size_t siglen, i;
	char *t, *s, buf[256];
	int same;

	ok(k != NULL && ca_jwk_is_private(k), "RFC 7515 A.2 RSA private JWK");
	if (k == NULL || pub == NULL)
		goto out;
	is_str(ca_jwk_alg(k), "RS256", "  alg defaults to RS256");
	is_int(verify(a2_jws, pub), 0, "A.2 JWS verifies");
	ok(ca_jws_sign(k, NULL, a3_payload, strlen(a3_payload), &t) == 0,
	    "RS256 signing");
	is_str(t, a2_jws, "  reproduces the RFC's JWS byte for byte");
	free(t);
	t = with_part(a2_jws, 1, b64s("{}"));
	is_int(verify(t, pub), CA_ERR_AUTH, "tampered payload fails");
	free(t);
	if (ca_b64url_decode(strrchr(a2_jws, '.') + 1,
	    strlen(strrchr(a2_jws, '.') + 1), &sig, &siglen) != 0)
		abort();
	t = with_sig(a2_jws, sig + 1, siglen - 1);
	is_int(verify(t, pub), CA_ERR_AUTH, "255-byte RSA signature refused");
	ok(has_msg("255 bytes"), "  for its length");
	free(t);
	free(sig);

	if (ca_json_parse(a2_jwk, strlen(a2_jwk), "test", &o) != 0)
		abort();
	for (i = 0, same = 1; i < sizeof(crt) / sizeof(crt[0]); i++) {
		s = member(k, 1, crt[i]);
		if (ca_json_string(o, crt[i], 1, &want) != 0 || s == NULL ||
		    strcmp(s, want) != 0) {
			printf("# %s differs\n", crt[i]);
			same = 0;
		}
		free(s);
	}
	ok(same, "private export: n e d p q dp dq qi as in the RFC");

	/* The same key for PS256. */
	json_object_object_add(o, "alg", json_object_new_string("PS256"));
	ok(ca_jwk_from_json(o, &ps) == 0, "alg PS256 accepted for RSA");
	if (ps != NULL) {
		is_str(ca_jwk_alg(ps), "PS256", "  and kept");
		ok(ca_jws_sign(ps, NULL, "x", 1, &t) == 0 &&
		    strncmp(t, "eyJhbGciOiJQUzI1NiJ9.", 21) == 0,
		    "PS256 signing");
		is_int(verify(t, ps), 0, "  verifies");
		is_int(verify(t, pub), CA_ERR_AUTH, "  not with the RS256 key");
		is_int(verify(a2_jws, ps), CA_ERR_AUTH,
		    "RS256 JWS refused by the PS256 key");
		free(t);
		ca_jwk_free(ps);
	}
	json_object_object_add(o, "alg", json_object_new_string("ES256"));
	is_int(ca_jwk_from_json(o, &ps), CA_ERR_INVAL,
	    "alg ES256 refused for RSA");
	json_object_object_del(o, "alg");
	json_object_object_del(o, "qi");
	is_int(ca_jwk_from_json(o, &ps), CA_ERR_INVAL,
	    "private RSA key without qi refused");
	json_object_object_add(o, "qi", json_object_new_string("AQ"));
	json_object_object_add(o, "oth", json_object_new_array());
	is_int(ca_jwk_from_json(o, &ps), CA_ERR_INVAL, "multi-prime refused");
	json_object_put(o);
	memset(big, 0xff, 128);		/* a 1024-bit modulus */
	if ((s = ca_b64url_encode(big, 128)) == NULL)
		abort();
	snprintf(buf, sizeof(buf), "{\"kty\":\"RSA\",\"e\":\"AQAB\","
	    "\"n\":\"%s\"}", s);
	free(s);
	is_int(jwk_rc(buf), CA_ERR_INVAL, "1024-bit RSA key refused");
	ok(has_msg("1024 bits"), "  for its size");
 out:
	ca_jwk_free(k);
	ca_jwk_free(pub);
}

static void
test_rfc7515_es512(void)
{
	struct ca_jwk *k = jwk(a4_jwk), *pub = public_of(k);
	char *t, *s;

	is_str(k != NULL ? ca_jwk_alg(k) : NULL, "ES512",
	    "RFC 7515 A.4 P-521 JWK: ES512");
	is_int(verify(a4_jws, pub), 0, "A.4 ES512 JWS verifies");
	t = with_part(a4_jws, 1, b64s("payload"));
	is_int(verify(t, pub), CA_ERR_AUTH, "  tampered payload fails");
	free(t);
	/* A.4's y starts with a zero byte: export must keep 66 bytes. */
	s = member(k, 0, "y");
	is_str(s, a4_y, "export of y left-pads to 66 bytes");
	free(s);
	s = member(k, 1, "d");
	is_str(s, a4_d, "export of d keeps 66 bytes");
	free(s);
	ok(k != NULL && ca_jws_sign(k, NULL, "P", 1, &t) == 0 &&
	    strlen(strrchr(t, '.') + 1) == 176, "ES512 signing: 132 bytes");
	is_int(verify(t, pub), 0, "  verifies");
	free(t);
	ca_jwk_free(k);
	ca_jwk_free(pub);
}

static void
test_rfc8037(void)
{
	struct ca_jwk *k, *pub;
	char buf[256], *t, *s;

	snprintf(buf, sizeof(buf), "{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
	    "\"d\":\"%s\",\"x\":\"%s\"}", ed_d, ed_x);
	k = jwk(buf);
	pub = public_of(k);
	ok(k != NULL && pub != NULL, "RFC 8037 A.1 Ed25519 JWK");
	if (k == NULL || pub == NULL)
		goto out;
	is_str(ca_jwk_alg(k), "EdDSA", "  alg EdDSA");
	ok(ca_jwk_thumbprint(pub, &t) == 0, "thumbprint");
	is_str(t, ed_thumbprint, "  as in RFC 8037 A.3");
	free(t);
	is_int(verify(ed_jws, pub), 0, "RFC 8037 A.4 JWS verifies");
	ok(ca_jws_sign(k, NULL, ed_payload, strlen(ed_payload), &t) == 0,
	    "EdDSA signing");
	is_str(t, ed_jws, "  reproduces RFC 8037 A.4");
	free(t);
	t = with_part(ed_jws, 1, b64s("Example of Ed25519 signinG"));
	is_int(verify(t, pub), CA_ERR_AUTH, "tampered payload fails");
	free(t);
	s = member(k, 1, "d");
	is_str(s, ed_d, "private export d");
	free(s);
	s = member(k, 0, "x");
	is_str(s, ed_x, "export x");
	free(s);
	s = member(k, 0, "y");
	ok(s == NULL, "no y for OKP");
	free(s);
	snprintf(buf, sizeof(buf), "{\"kty\":\"OKP\",\"crv\":\"X25519\","
	    "\"x\":\"%s\"}", ed_x);
	is_int(jwk_rc(buf), CA_ERR_INVAL, "OKP X25519 refused");
	snprintf(buf, sizeof(buf), "{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
	    "\"x\":\"%s\",\"alg\":\"ES256\"}", ed_x);
	is_int(jwk_rc(buf), CA_ERR_INVAL, "Ed25519 with alg ES256 refused");
 out:
	ca_jwk_free(k);
	ca_jwk_free(pub);
}

static void
test_rfc7638(void)
{
	struct ca_jwk *k = jwk(rfc7638_jwk);
	char *t = NULL;

	ok(k != NULL && ca_jwk_thumbprint(k, &t) == 0, "RFC 7638 3.1 key");
	is_str(t, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs",
	    "  thumbprint as in the RFC");
	is_str(k != NULL ? ca_jwk_kid(k) : NULL, "2011-04-29",
	    "  the JWK's kid is kept");
	free(t);
	ca_jwk_free(k);
}

static void
test_keywrap(void)
{
	/*
	 * Every vector of RFC 3394 section 4: the three KEK sizes that
	 * PBES2-HS256+A128KW, HS384+A192KW and HS512+A256KW use.
	 */
	static const struct {
		const char *name, *kek, *key, *wrapped;
	} v[] = {
		{ "4.1 (128-bit data, 128-bit KEK)",
		  "000102030405060708090A0B0C0D0E0F",
		  "00112233445566778899AABBCCDDEEFF",
		  "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5" },
		{ "4.2 (128-bit data, 192-bit KEK)",
		  "000102030405060708090A0B0C0D0E0F1011121314151617",
		  "00112233445566778899AABBCCDDEEFF",
		  "96778B25AE6CA435F92B5B97C050AED2468AB8A17AD84E5D" },
		{ "4.3 (128-bit data, 256-bit KEK)",
		  "000102030405060708090A0B0C0D0E0F"
		  "101112131415161718191A1B1C1D1E1F",
		  "00112233445566778899AABBCCDDEEFF",
		  "64E8C3F9CE0F5BA263E9777905818A2A93C8191E7D6E8AE7" },
		{ "4.4 (192-bit data, 192-bit KEK)",
		  "000102030405060708090A0B0C0D0E0F1011121314151617",
		  "00112233445566778899AABBCCDDEEFF0001020304050607",
		  "031D33264E15D33268F24EC260743EDCE1C6C7DDEE725A93"
		  "6BA814915C6762D2" },
		{ "4.5 (192-bit data, 256-bit KEK)",
		  "000102030405060708090A0B0C0D0E0F"
		  "101112131415161718191A1B1C1D1E1F",
		  "00112233445566778899AABBCCDDEEFF0001020304050607",
		  "A8F9BC1612C68B3FF6E6F4FBE30E71E4769C8B80A32CB895"
		  "8CD5D17D6B254DA1" },
		{ "4.6 (256-bit data, 256-bit KEK)",
		  "000102030405060708090A0B0C0D0E0F"
		  "101112131415161718191A1B1C1D1E1F",
		  "00112233445566778899AABBCCDDEEFF"
		  "000102030405060708090A0B0C0D0E0F",
		  "28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326"
		  "CBC7F0E71A99F43BFB988B9B7A02DD21" },
	};
	unsigned char *kek, *key, *wrapped, out[48];
	size_t i, keklen, keylen, wlen;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		kek = unhex(v[i].kek, &keklen);
		key = unhex(v[i].key, &keylen);
		wrapped = unhex(v[i].wrapped, &wlen);
		ok(ca_jose_aeskw_wrap(kek, keklen, key, keylen, out) == 0 &&
		    memcmp(out, wrapped, wlen) == 0,
		    "RFC 3394 %s wrap", v[i].name);
		ok(ca_jose_aeskw_unwrap(kek, keklen, wrapped, wlen, out) == 0 &&
		    memcmp(out, key, keylen) == 0, "  unwrap");
		wrapped[wlen - 1] ^= 1;
		is_int(ca_jose_aeskw_unwrap(kek, keklen, wrapped, wlen, out),
		    CA_ERR_AUTH, "  a flipped bit fails the integrity check");
		kek[0] ^= 1;
		wrapped[wlen - 1] ^= 1;
		is_int(ca_jose_aeskw_unwrap(kek, keklen, wrapped, wlen, out),
		    CA_ERR_AUTH, "  so does another KEK");
		free(kek);
		free(key);
		free(wrapped);
	}
	is_int(ca_jose_aeskw_wrap(out, 16, out, 12, out + 16), CA_ERR_INVAL,
	    "wrap of 12 bytes refused");
	is_int(ca_jose_aeskw_unwrap(out, 16, out, 16, out + 16), CA_ERR_INVAL,
	    "unwrap of 16 bytes refused");
	is_int(ca_jose_aeskw_wrap(out, 20, out + 20, 16, out), CA_ERR_INVAL,
	    "20-byte KEK refused");
	is_int(ca_jose_aeskw_wrap(out, 16, out + 16, 20, out + 40),
	    CA_ERR_INVAL, "wrap of a length not a multiple of 8 refused");
}

static void
test_rfc7518_b1(void)
{
	static const char aad[] = "The second principle of Auguste Kerckhoffs";
	static const char p[] = "A cipher system must not be required to be "
	    "secret, and it must be able to fall into the hands of the enemy "
	    "without inconvenience";
	unsigned char *k, *iv, *e, *t, *pt;
	size_t klen, ivlen, elen, tlen, ptlen;

	k = unhex("000102030405060708090a0b0c0d0e0f"
	    "101112131415161718191a1b1c1d1e1f", &klen);
	iv = unhex("1af38c2dc2b96ffdd86694092341bc04", &ivlen);
	e = unhex("c80edfa32ddf39d5ef00c0b468834279"
	    "a2e46a1b8049f792f76bfe54b903a9c9a94ac9b47ad2655c5f10f9aef71427e2"
	    "fc6f9b3f399a221489f16362c703233609d45ac69864e3321cf82935ac4096c8"
	    "6e133314c54019e8ca7980dfa4b9cf1b384c486f3a54c51078158ee5d79de59f"
	    "bd34d848b3d69550a67646344427ade54b8851ffb598f7f80074b9473c82e2db",
	    &elen);
	t = unhex("652c3fa36b0a7c5b3219fab3a30bc1c4", &tlen);
	ok(ca_jose_cbc_hs_decrypt(k, klen, iv, ivlen,
	    (const unsigned char *)aad, strlen(aad), e, elen, t, tlen, &pt,
	    &ptlen) == 0 && ptlen == strlen(p) && memcmp(pt, p, ptlen) == 0 &&
	    pt[ptlen] == '\0',
	    "RFC 7518 B.1 AES_128_CBC_HMAC_SHA_256 decrypts");
	ca_free_secret(pt, ptlen);
	is_int(ca_jose_cbc_hs_decrypt(k, klen, iv, ivlen,
	    (const unsigned char *)aad, strlen(aad) - 1, e, elen, t, tlen, &pt,
	    &ptlen), CA_ERR_AUTH, "  other AAD fails");
	t[15] ^= 1;
	is_int(ca_jose_cbc_hs_decrypt(k, klen, iv, ivlen,
	    (const unsigned char *)aad, strlen(aad), e, elen, t, tlen, &pt,
	    &ptlen), CA_ERR_AUTH, "  a flipped tag bit fails");
	ok(pt == NULL && ptlen == 0, "  results cleared");
	free(k);
	free(iv);
	free(e);
	free(t);
}

static void
test_rfc7517c(void)
{
	struct ca_jwk *k = NULL;
	unsigned char *pt;
	size_t ptlen;
	char *t = NULL;

	ok(ca_jwe_decrypt_password(rfc7517c_jwe, strlen(rfc7517c_jwe),
	    rfc7517c_password, strlen(rfc7517c_password), &pt, &ptlen) == 0,
	    "RFC 7517 C: PBES2-HS256+A128KW, A128CBC-HS256 decrypts");
	if (pt != NULL) {
		ok(pt[ptlen] == '\0' &&
		    ca_jwk_parse((char *)pt, ptlen, &k) == 0, "  to a JWK");
		ca_free_secret(pt, ptlen);
	}
	ok(k != NULL && ca_jwk_is_private(k), "  private RSA key");
	is_str(k != NULL ? ca_jwk_kid(k) : NULL, "juliet@capulet.lit",
	    "  kid juliet@capulet.lit");
	ok(k != NULL && ca_jwk_thumbprint(k, &t) == 0, "  thumbprint");
	is_str(t, rfc7517c_thumbprint, "  as joserfc computes it");
	free(t);
	if (k != NULL) {
		ok(ca_jws_sign(k, NULL, "x", 1, &t) == 0 && verify(t, k) == 0,
		    "  signs and verifies");
		free(t);
	}
	ca_jwk_free(k);
	is_int(ca_jwe_decrypt_password(rfc7517c_jwe, strlen(rfc7517c_jwe),
	    "Thus from my lips, by yours, my sin is purged!", 46, &pt, &ptlen),
	    CA_ERR_AUTH, "  wrong password fails");
	ok(has_msg("wrong password"), "  saying so");
	ok(pt == NULL && ptlen == 0, "  results cleared");
}

static void
test_rfc7520(void)
{
	struct json_object *o = NULL, *keys;
	unsigned char *pt;
	size_t ptlen;

	ok(ca_jwe_decrypt_password(rfc7520_jwe, strlen(rfc7520_jwe),
	    rfc7520_password, strlen(rfc7520_password), &pt, &ptlen) == 0,
	    "RFC 7520 5.3: PBES2-HS512+A256KW, A128CBC-HS256 decrypts");
	ok(pt != NULL && ca_json_parse((char *)pt, ptlen, "test", &o) == 0 &&
	    ca_json_array(o, "keys", 1, &keys) == 0 &&
	    json_object_array_length(keys) == 3, "  to a set of three keys");
	json_object_put(o);
	ca_free_secret(pt, ptlen);
}

#define HDR	"{\"alg\":\"PBES2-HS256+A128KW\",\"cty\":\"jwk+json\"," \
		"\"enc\":\"A256GCM\",\"p2c\":"

static void
test_jwe(void)
{
	static const char secret[] = "{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}";
	static const char pw[] = "correct horse battery staple";
	static const char prefix[] = "{\"alg\":\"PBES2-HS256+A128KW\","
	    "\"cty\":\"jwk+json\",\"enc\":\"A256GCM\",\"p2c\":1000,\"p2s\":\"";
	unsigned char *pt, *h;
	size_t ptlen, hlen;
	const char *p2s;
	char *c = NULL, *c2, *t, buf[256];
	int dots;

	ok(ca_jwe_encrypt_password(secret, strlen(secret), pw, strlen(pw),
	    1000, "jwk+json", &c) == 0, "JWE encrypt with a password");
	if (c == NULL)
		return;
	for (dots = 0, t = c; (t = strchr(t, '.')) != NULL; t++)
		dots++;
	is_int(dots, 4, "  five parts");
	ok(ca_b64url_decode(c, (size_t)(strchr(c, '.') - c), &h, &hlen) == 0 &&
	    strncmp((char *)h, prefix, strlen(prefix)) == 0 &&
	    hlen == strlen(prefix) + 22 + 2, "  header as step-ca writes it");
	printf("# %s\n", h);
	free(h);
	ok(ca_jwe_decrypt_password(c, strlen(c), pw, strlen(pw), &pt,
	    &ptlen) == 0 && ptlen == strlen(secret) &&
	    memcmp(pt, secret, ptlen) == 0 && pt[ptlen] == '\0',
	    "  decrypts to the plaintext");
	ca_free_secret(pt, ptlen);
	is_int(ca_jwe_decrypt_password(c, strlen(c), "wrong", 5, &pt, &ptlen),
	    CA_ERR_AUTH, "  wrong password: CA_ERR_AUTH");
	ok(has_msg("wrong password"), "  saying so");
	is_int(ca_jwe_decrypt_password(c, strlen(c), pw, 0, &pt, &ptlen),
	    CA_ERR_INVAL, "  empty password refused");

	t = strdup(c);
	t[strlen(t) - 30] = t[strlen(t) - 30] == 'A' ? 'B' : 'A';
						/* in the ciphertext */
	is_int(ca_jwe_decrypt_password(t, strlen(t), pw, strlen(pw), &pt,
	    &ptlen), CA_ERR_AUTH, "  tampered ciphertext fails");
	ok(has_msg("decryption failed"), "  as a decryption failure");
	free(t);
	/* Same p2s and p2c, one more member: only the AAD changes. */
	if (ca_b64url_decode(c, (size_t)(strchr(c, '.') - c), &h, &hlen) != 0)
		abort();
	snprintf(buf, sizeof(buf), "{\"kid\":\"x\",%s", (char *)h + 1);
	t = with_part(c, 0, b64s(buf));
	is_int(ca_jwe_decrypt_password(t, strlen(t), pw, strlen(pw), &pt,
	    &ptlen), CA_ERR_AUTH, "  changed header (AAD) fails");
	free(t);
	snprintf(buf, sizeof(buf), "{\"zip\":\"DEF\",%s", (char *)h + 1);
	t = with_part(c, 0, b64s(buf));
	is_int(ca_jwe_decrypt_password(t, strlen(t), pw, strlen(pw), &pt,
	    &ptlen), CA_ERR_INVAL, "  zip refused");
	free(t);
	p2s = strstr((char *)h, "\"p2s\":\"") + 7;
	snprintf(buf, sizeof(buf), HDR "999,\"p2s\":\"%s", p2s);
	t = with_part(c, 0, b64s(buf));
	is_int(ca_jwe_decrypt_password(t, strlen(t), pw, strlen(pw), &pt,
	    &ptlen), CA_ERR_INVAL, "  p2c 999 refused");
	ok(has_msg("p2c"), "  naming p2c");
	free(t);
	snprintf(buf, sizeof(buf), HDR "10000001,\"p2s\":\"%s", p2s);
	t = with_part(c, 0, b64s(buf));
	is_int(ca_jwe_decrypt_password(t, strlen(t), pw, strlen(pw), &pt,
	    &ptlen), CA_ERR_INVAL, "  p2c 10000001 refused");
	free(t);
	snprintf(buf, sizeof(buf), HDR "\"1000\",\"p2s\":\"%s", p2s);
	t = with_part(c, 0, b64s(buf));
	is_int(ca_jwe_decrypt_password(t, strlen(t), pw, strlen(pw), &pt,
	    &ptlen), CA_ERR_INVAL, "  p2c as a string refused");
	free(t);
	snprintf(buf, sizeof(buf), HDR "1000,\"p2s\":\"AAAAAAAAAA\"}");
	t = with_part(c, 0, b64s(buf));
	is_int(ca_jwe_decrypt_password(t, strlen(t), pw, strlen(pw), &pt,
	    &ptlen), CA_ERR_INVAL, "  p2s of 7 bytes refused");
	ok(has_msg("p2s"), "  naming p2s");
	free(t);
	t = with_part(c, 0, b64s("{\"alg\":\"dir\",\"enc\":\"A256GCM\"}"));
	is_int(ca_jwe_decrypt_password(t, strlen(t), pw, strlen(pw), &pt,
	    &ptlen), CA_ERR_INVAL, "  alg dir refused");
	free(t);
	free(h);
	snprintf(buf, sizeof(buf), "%.*s", (int)(strrchr(c, '.') - c), c);
	is_int(ca_jwe_decrypt_password(buf, strlen(buf), pw, strlen(pw), &pt,
	    &ptlen), CA_ERR_INVAL, "  four parts refused");
	t = with_part(c, 1, strdup("AAAA"));
	is_int(ca_jwe_decrypt_password(t, strlen(t), pw, strlen(pw), &pt,
	    &ptlen), CA_ERR_INVAL, "  short encrypted key refused");
	free(t);
	free(c);

	ok(ca_jwe_encrypt_password("x", 1, pw, strlen(pw), 1000, NULL, &c) == 0,
	    "JWE without cty");
	if (c != NULL && ca_b64url_decode(c, (size_t)(strchr(c, '.') - c), &h,
	    &hlen) == 0) {
		ok(strstr((char *)h, "cty") == NULL, "  has no cty member");
		free(h);
	}
	c2 = NULL;
	ok(ca_jwe_encrypt_password("x", 1, pw, strlen(pw), 1000, NULL,
	    &c2) == 0 && strcmp(c, c2) != 0, "  fresh salt, key and IV");
	free(c);
	free(c2);
	is_int(ca_jwe_encrypt_password("x", 1, pw, strlen(pw), 999, NULL, &c),
	    CA_ERR_INVAL, "encrypt with p2c 999 refused");
	ok(c == NULL, "  result cleared");
}

struct gen {
	const char		*name;
	gnutls_pk_algorithm_t	 pk;
	unsigned		 bits;
	const char		*alg;		/* asked for, or NULL */
	const char		*want;
};

static void
test_generated(void)
{
	static const struct gen g[] = {
		{ "P-256", GNUTLS_PK_ECDSA,
		  GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), NULL,
		  "ES256" },
		{ "P-384", GNUTLS_PK_ECDSA,
		  GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP384R1), NULL,
		  "ES384" },
		{ "P-521", GNUTLS_PK_ECDSA,
		  GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP521R1), NULL,
		  "ES512" },
		{ "Ed25519", GNUTLS_PK_EDDSA_ED25519,
		  GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_ED25519), NULL,
		  "EdDSA" },
		{ "RSA-2048", GNUTLS_PK_RSA, 2048, "PS256", "PS256" },
	};
	struct ca_jwk *k, *pub, *k2, *other;
	struct json_object *o;
	gnutls_privkey_t key, key2;
	char *t, *t2, *tp, *kid;
	size_t i;

	for (i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
		k = pub = k2 = other = NULL;
		if (gnutls_privkey_init(&key) < 0 ||
		    gnutls_privkey_generate(key, g[i].pk, g[i].bits, 0) < 0 ||
		    gnutls_privkey_init(&key2) < 0 ||
		    gnutls_privkey_generate(key2, g[i].pk, g[i].bits, 0) < 0)
			abort();
		ok(ca_jwk_from_privkey(key, g[i].alg, &k) == 0,
		    "%s: JWK from a GnuTLS key", g[i].name);
		if (k == NULL) {
			gnutls_privkey_deinit(key);
			gnutls_privkey_deinit(key2);
			continue;
		}
		ok(ca_jwk_privkey(k) == key && ca_jwk_pubkey(k) != NULL,
		    "  owns the key");
		if (ca_jwk_from_privkey(key2, g[i].alg, &other) != 0)
			gnutls_privkey_deinit(key2);
		is_str(ca_jwk_alg(k), g[i].want, "  alg %s", g[i].want);
		pub = public_of(k);
		kid = NULL;
		ok(pub != NULL && ca_jwk_thumbprint(pub, &kid) == 0 &&
		    ca_jwk_kid(k) != NULL && strcmp(kid, ca_jwk_kid(k)) == 0,
		    "  kid is the RFC 7638 thumbprint");
		free(kid);
		ok(ca_jws_sign(k, NULL, "hello", 5, &t) == 0, "  signs");
		is_int(verify(t, pub), 0, "  verifies with the exported "
		    "public key");
		is_int(verify(t, other), CA_ERR_AUTH, "  not with another key");
		t2 = with_part(t, 1, b64s("hellO"));
		is_int(verify(t2, pub), CA_ERR_AUTH,
		    "  tampered payload fails");
		free(t2);
		tp = strrchr(t, '.') + 1;
		tp[0] = tp[0] == 'A' ? 'B' : 'A';
		is_int(verify(t, pub), CA_ERR_AUTH,
		    "  tampered signature fails");
		free(t);
		ok(ca_jwk_to_json(k, 1, &o) == 0 &&
		    ca_jwk_from_json(o, &k2) == 0 && ca_jwk_is_private(k2),
		    "  private JSON export re-imports");
		json_object_put(o);
		ok(k2 != NULL && ca_jws_sign(k2, NULL, "x", 1, &t) == 0 &&
		    verify(t, k) == 0, "  and signs for the original");
		if (k2 != NULL)
			free(t);
		ca_jwk_free(k);
		ca_jwk_free(k2);
		ca_jwk_free(pub);
		ca_jwk_free(other);
	}
	if (gnutls_privkey_init(&key) < 0 ||
	    gnutls_privkey_generate(key, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0)
		abort();
	is_int(ca_jwk_from_privkey(key, "RS256", &k), CA_ERR_INVAL,
	    "P-256 key with alg RS256 refused");
	ok(k == NULL, "  result cleared, key still the caller's");
	gnutls_privkey_deinit(key);
}

static void
test_pem(void)
{
	static const struct {
		const char *name;
		gnutls_pk_algorithm_t pk;
		unsigned bits;
		size_t n;	/* formats to try */
	} g[] = {
		{ "P-384", GNUTLS_PK_ECDSA,
		  GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP384R1), 3 },
		/* GnuTLS's "native" Ed25519 export is not a real format. */
		{ "Ed25519", GNUTLS_PK_EDDSA_ED25519,
		  GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_ED25519), 2 },
		{ "RSA-2048", GNUTLS_PK_RSA, 2048, 3 },
	};
	gnutls_x509_privkey_t x;
	gnutls_datum_t d[4];
	struct ca_jwk *k;
	char *tp[4];
	size_t i, j;
	int same;

	for (i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
		memset(d, 0, sizeof(d));
		if (gnutls_x509_privkey_init(&x) < 0 ||
		    gnutls_x509_privkey_generate(x, g[i].pk, g[i].bits,
		    0) < 0 ||
		    gnutls_x509_privkey_export2_pkcs8(x, GNUTLS_X509_FMT_PEM,
		    NULL, GNUTLS_PKCS_PLAIN, &d[0]) < 0 ||
		    gnutls_x509_privkey_export2_pkcs8(x, GNUTLS_X509_FMT_DER,
		    NULL, GNUTLS_PKCS_PLAIN, &d[1]) < 0 ||
		    gnutls_x509_privkey_export2(x, GNUTLS_X509_FMT_PEM,
		    &d[2]) < 0 ||
		    gnutls_x509_privkey_export2_pkcs8(x, GNUTLS_X509_FMT_PEM,
		    "pw", GNUTLS_PKCS_PBES2_AES_128, &d[3]) < 0)
			abort();
		gnutls_x509_privkey_deinit(x);
		for (j = 0, same = 1; j < g[i].n; j++) {
			tp[j] = NULL;
			if (ca_jwk_from_pem((char *)d[j].data, d[j].size,
			    &k) != 0) {
				printf("# %s\n", ca_errmsg());
				same = 0;
				continue;
			}
			tp[j] = strdup(ca_jwk_kid(k));
			if (!ca_jwk_is_private(k) ||
			    strcmp(tp[j], tp[0] != NULL ? tp[0] : "") != 0)
				same = 0;
			ca_jwk_free(k);
		}
		ok(same, "%s: PKCS#8 PEM, PKCS#8 DER%s give the same key",
		    g[i].name, g[i].pk == GNUTLS_PK_RSA ? ", PKCS#1 PEM" :
		    g[i].pk == GNUTLS_PK_ECDSA ? ", SEC1 PEM" : "");
		is_int(ca_jwk_from_pem((char *)d[3].data, d[3].size, &k),
		    CA_ERR_INVAL, "  encrypted PKCS#8 refused");
		for (j = 0; j < 4; j++) {
			if (j < g[i].n)
				free(tp[j]);
			gnutls_free(d[j].data);
		}
	}
	is_int(ca_jwk_from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n"
	    "-----END PRIVATE KEY-----\n", 58, &k), CA_ERR_INVAL,
	    "garbage PEM refused");
}

static void
test_fixture(void)
{
	struct json_object *f = NULL, *pubj, *rsaj;
	struct ca_jwk *k = NULL, *pub = NULL, *rsa = NULL;
	const char *dir, *ek, *pw, *tp, *token, *payload, *ps, *rtp;
	unsigned char *pt = NULL;
	struct ca_jws *jws;
	size_t ptlen, len;
	char *path, *buf = NULL, *t;

	if ((dir = getenv("CA_FIXTURES")) == NULL)
		dir = "tests/fixtures";
	if ((path = ca_path_join(dir, "jose-fixtures.json")) == NULL)
		abort();
	ok(ca_file_read(path, CA_MAX_CONFIG, &buf, &len) == 0 &&
	    ca_json_parse(buf, len, path, &f) == 0, "read %s", path);
	free(path);
	free(buf);
	if (f == NULL ||
	    ca_json_string(f, "encrypted_key", 1, &ek) != 0 ||
	    ca_json_string(f, "password", 1, &pw) != 0 ||
	    ca_json_string(f, "thumbprint", 1, &tp) != 0 ||
	    ca_json_string(f, "jws", 1, &token) != 0 ||
	    ca_json_string(f, "jws_payload", 1, &payload) != 0 ||
	    ca_json_object(f, "public_jwk", 1, &pubj) != 0 ||
	    ca_json_string(f, "jws_ps256", 1, &ps) != 0 ||
	    ca_json_string(f, "rsa_thumbprint", 1, &rtp) != 0 ||
	    ca_json_object(f, "rsa_public_jwk", 1, &rsaj) != 0) {
		ok(0, "fixture members: %s", ca_errmsg());
		goto out;
	}
	ok(ca_jwe_decrypt_password(ek, strlen(ek), pw, strlen(pw), &pt,
	    &ptlen) == 0, "joserfc encryptedKey (p2c 600000) decrypts");
	ok(pt != NULL && ca_jwk_parse((char *)pt, ptlen, &k) == 0 &&
	    ca_jwk_is_private(k), "  to a private JWK");
	ca_free_secret(pt, ptlen);
	t = NULL;
	ok(k != NULL && ca_jwk_thumbprint(k, &t) == 0, "  thumbprint");
	is_str(t, tp, "  equals joserfc's");
	free(t);
	is_int(ca_jwe_decrypt_password(ek, strlen(ek), "fixture-passwore", 16,
	    &pt, &ptlen), CA_ERR_AUTH, "  wrong password fails");

	ok(ca_jwk_from_json(pubj, &pub) == 0, "joserfc public JWK imports");
	is_int(verify(token, pub), 0, "joserfc ES256 JWS verifies");
	ok(ca_jws_parse(token, strlen(token), &jws) == 0 &&
	    jws->payload_len == strlen(payload) &&
	    memcmp(jws->payload, payload, jws->payload_len) == 0,
	    "  payload as signed");
	ca_jws_free(jws);
	is_int(verify(token, k), 0, "  also with the decrypted key");
	ok(k != NULL && ca_jws_sign(k, NULL, "step", 4, &t) == 0 &&
	    verify(t, pub) == 0, "the decrypted key signs for the public one");
	if (k != NULL)
		free(t);

	ok(ca_jwk_from_json(rsaj, &rsa) == 0, "joserfc RSA public JWK");
	if (rsa != NULL) {
		t = NULL;
		ok(ca_jwk_thumbprint(rsa, &t) == 0 && strcmp(t, rtp) == 0,
		    "  thumbprint equals joserfc's");
		free(t);
		is_int(verify(ps, rsa), CA_ERR_AUTH,
		    "joserfc PS256 JWS refused by an RS256 key");
		json_object_object_add(rsaj, "alg",
		    json_object_new_string("PS256"));
		ca_jwk_free(rsa);
		rsa = NULL;
		ok(ca_jwk_from_json(rsaj, &rsa) == 0, "  as PS256");
		is_int(verify(ps, rsa), 0, "joserfc PS256 JWS verifies");
	}
 out:
	ca_jwk_free(k);
	ca_jwk_free(pub);
	ca_jwk_free(rsa);
	json_object_put(f);
}

int
main(void)
{
	test_b64url();
	test_rfc7515_es256();
	test_rfc7515_rs256();
	test_rfc7515_es512();
	test_rfc8037();
	test_rfc7638();
	test_keywrap();
	test_rfc7518_b1();
	test_rfc7517c();
	test_rfc7520();
	test_jwe();
	test_generated();
	test_pem();
	test_fixture();
	return tap_done();
}
