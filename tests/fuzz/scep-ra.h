/*
 * scep-ra.h - the SCEP decrypter of tests/fixtures/scep (ra-rsa.pem,
 * ra-rsa.key: a test key, nothing it protects), for the scep harnesses.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef FUZZ_SCEP_RA_H
#define FUZZ_SCEP_RA_H

static const char ra_crt_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIICUjCCAfigAwIBAgIUedvyIl9E1C4yVHkrA1/8UU6g8BYwCgYIKoZIzj0EAwIw\n"
    "HDEaMBgGA1UEAwwRVGVzdCBJbnRlcm1lZGlhdGUwHhcNMjYxMjA3MDcyMDI0WhcN\n"
    "MjcwMTA2MDcyMDI0WjAXMRUwEwYDVQQDDAxzY2VwIFNDRVAgUkEwggEiMA0GCSqG\n"
    "SIb3DQEBAQUAA4IBDwAwggEKAoIBAQCukblBHnXSYVP5VJ15gjmEb6w6Ub1tg/Nb\n"
    "bAXRI+0rf3lLeZCSbddk2mQtWHV0iMBsVQUFq7tq280xkrdRP05mIKa86KCPdo4S\n"
    "ztJ8ZoBZKoTJTdU8RX267BOi50wL74jYTh49G7E4lKZjLDoTIuajrnJXyzktEhDx\n"
    "ek4HF+KvNjAs6uog5fEllpY05ot0YH5HSXUySIup8ttfpR4CRKfzs7eHVSjGTHeY\n"
    "GWdxKHGU/2HqXr/if3ByTSmX1+FOfjNrNPg9MzEXTWdcX9ZNsi252ronDWY2YyHx\n"
    "CAsnQriR0M0s/ynSxzcGlmQKHij7BavHY6nvLF3VSuZzZ8sSW1nXAgMBAAGjUjBQ\n"
    "MA4GA1UdDwEB/wQEAwIFoDAdBgNVHQ4EFgQUOp6wUI50tTVJDGJ7lSNSDoxPRLIw\n"
    "HwYDVR0jBBgwFoAUCt6wbzfIFi8Xp6uYUTQ3AeDOo9MwCgYIKoZIzj0EAwIDSAAw\n"
    "RQIhAKqI/pcZQVUAkWmvIBH2yqeoxg4K1cKuYERtCq4QD8D5AiBvQf6n0+sIvl3j\n"
    "uutwrGm5fhxXnnu/JXLE4DF3eYyqrQ==\n"
    "-----END CERTIFICATE-----\n";
static const char ra_key_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQCukblBHnXSYVP5\n"
    "VJ15gjmEb6w6Ub1tg/NbbAXRI+0rf3lLeZCSbddk2mQtWHV0iMBsVQUFq7tq280x\n"
    "krdRP05mIKa86KCPdo4SztJ8ZoBZKoTJTdU8RX267BOi50wL74jYTh49G7E4lKZj\n"
    "LDoTIuajrnJXyzktEhDxek4HF+KvNjAs6uog5fEllpY05ot0YH5HSXUySIup8ttf\n"
    "pR4CRKfzs7eHVSjGTHeYGWdxKHGU/2HqXr/if3ByTSmX1+FOfjNrNPg9MzEXTWdc\n"
    "X9ZNsi252ronDWY2YyHxCAsnQriR0M0s/ynSxzcGlmQKHij7BavHY6nvLF3VSuZz\n"
    "Z8sSW1nXAgMBAAECggEAED9AyiY/Gf7z9VMiOuJbXw+TrHPaGPy8ZAhYPEBHPRKm\n"
    "o9cjFPXDI8BNrYi7mcZ2fj6lcoMqtMXTQadhh17IeanVSuStuNx0WZzFK03Q6TuT\n"
    "Uzb6vxrKmmCJbVJwmfXHuzX+C3rt0hHHsJg3qXtIkvhT7QbdgevaBtd2tqNK9jqB\n"
    "5hvHOj4vU1/s/7i7TGE9FOPFmCy83LUnEm6rNNoq/l6mRq8KafLozOzpWq/ENYfm\n"
    "rdLjyI7Nbl54penhhiduBll7lcc91BPx0/f3qCmFeVzzLuj33R9poayHddIb0X/x\n"
    "sI0oIhHaeui3IZd1lp8svcYiieiYMEYoGmnAnIukhQKBgQDkg7boYJk/mFKDvwD1\n"
    "LZq5RC/wt0ZB9bwzu+e4rQlytkf4x3oQSlKJiP7CsMc0Oq0RLZyM+3r4a+6y4VLJ\n"
    "hWDQhWwoy29ayNnMAd1ILUkRrqYvuGSX7ryX9ESFrkylSPpq27yJrZLXdmGv584t\n"
    "6mdXuxEl4n8gCXFmIavVAxg9XQKBgQDDkPUppLUieKszBgkNJ1XAY9PDUBR7CvH6\n"
    "p2xS3W5rK66pRHhFikuzA2KnSV3zCAMxH75VQfF6Q1tAk15FzhG7YYjZjGG0jHOn\n"
    "G+X6d+lzOL8gOz0ueQnUtmSpfVgiSNOQZsF0APFH9vvaSyAFjd5sWe5nFoNkf63r\n"
    "fQhzn5FMwwKBgFLlLQ7zK+ST/yrnuRM37e7TO4jZE1WOLS2fNpoZu1mvokAvLKqI\n"
    "K5TU64X41uqtdmbK4wWJnLxNexPNBVkxV0ONgwTxd325arjE3F74fo85ifO5slQj\n"
    "OKru44STDB7RcHYfLC/NlX0v5pQHRRYG+GIs7DWQCom2ozpncIwfSUXJAoGALdBy\n"
    "rpvIV1f/e0eJrUwuuZBpVpMXCTAqOfco2EzJhk/Ibhz9NAVO8JP1c40rdjjFTqfK\n"
    "Ff0JzgOjiAA+EIpS+xvBTH2nkf1pRpexi7i1tulvVOSr04xFclB8Snxzvixja6u2\n"
    "3C8wVxSUMbJxwPtYRPfYcswCYfPLUaSL61JRXrMCgYBruxNx0DvSCVaVkQL6o393\n"
    "XAEu9CFnxlaVp0CvZG94f7DY415BoAzm4Z2p6Wy/73xXOOZ4uB9Ej5DEnGCC6Phn\n"
    "0xgBeR493SBeA7DpG93wn0LKFnTqbHrif65zEUlExQm/x2hGSQo88fvM1UyGKN1P\n"
    "gUHqZVWzQ3xYLioYcGna9g==\n"
    "-----END PRIVATE KEY-----\n";

#endif /* FUZZ_SCEP_RA_H */
