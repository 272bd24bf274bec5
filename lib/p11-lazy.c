/*
 * p11-lazy.c - p11-kit, loaded on first use (static-deps builds only).
 *
 * The statically linked GnuTLS calls p11-kit for PKCS#11 keys only, yet
 * linking libp11-kit.so (and the libffi it brings) costs every process
 * about 1 ms of start-up on this project's machines, a tenth of an
 * offline ca-sign (bench/offline.sh). So the static-deps build links
 * this archive instead: each p11-kit function GnuTLS calls is defined
 * here with the prototype of p11-kit's own headers, and forwards to the
 * real one, which dlopen() loads the first time any of them is called.
 * Where the library cannot be loaded, each returns what p11-kit returns
 * on failure, and p11_kit_message() says why, so that GnuTLS reports an
 * ordinary PKCS#11 error. The plain build links libp11-kit directly and
 * does not compile this file.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#include <p11-kit/p11-kit.h>
#include <p11-kit/pin.h>
#include <p11-kit/uri.h>

#define P11_SONAME	"libp11-kit.so.0"
#define P11_VERSION	"LIBP11_KIT_1.0"

static pthread_once_t p11_once = PTHREAD_ONCE_INIT;
static void *p11;
static char p11_err[256];

static void
p11_load(void)
{
	const char *e;

	if ((p11 = dlopen(P11_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		e = dlerror();
		snprintf(p11_err, sizeof(p11_err),
		    "cannot load %s, which PKCS#11 keys need (install the Debian package libp11-kit0): %s",
		    P11_SONAME, e != NULL ? e : "unknown error");
	}
}

/* The real function called name, or NULL (without the library, p11_err
 * says why). */
static void *
p11_sym(const char *name)
{
	void *f;

	pthread_once(&p11_once, p11_load);
	if (p11 == NULL)
		return NULL;
	/* p11_err is written only once, above: threads read it freely. */
	if ((f = dlvsym(p11, name, P11_VERSION)) == NULL)
		f = dlsym(p11, name);
	return f;
}

/*
 * FWD defines a function that returns a value (fail where the library or
 * the function is missing); FWD_VOID one that returns nothing.
 */
#define FWD(ret, name, params, args, fail)				\
ret									\
name params								\
{									\
	ret (*f) params;						\
	void *s;							\
									\
	if ((s = p11_sym(#name)) == NULL)				\
		return fail;						\
	f = (ret (*) params)s;						\
	return f args;							\
}
#define FWD_VOID(name, params, args)					\
void									\
name params								\
{									\
	void (*f) params;						\
	void *s;							\
									\
	if ((s = p11_sym(#name)) == NULL)				\
		return;							\
	f = (void (*) params)s;						\
	f args;								\
}

/* p11-kit.h */
FWD(char *, p11_kit_config_option,
    (CK_FUNCTION_LIST *module, const char *option), (module, option), NULL)
FWD(CK_RV, p11_kit_module_finalize, (CK_FUNCTION_LIST *module), (module),
    CKR_GENERAL_ERROR)
FWD(int, p11_kit_module_get_flags, (CK_FUNCTION_LIST *module), (module), 0)
FWD(char *, p11_kit_module_get_name, (CK_FUNCTION_LIST *module), (module),
    NULL)
FWD(CK_FUNCTION_LIST *, p11_kit_module_load,
    (const char *module_path, int flags), (module_path, flags), NULL)
FWD_VOID(p11_kit_module_release, (CK_FUNCTION_LIST *module), (module))
FWD(CK_FUNCTION_LIST **, p11_kit_modules_load,
    (const char *reserved, int flags), (reserved, flags), NULL)
FWD(size_t, p11_kit_space_strlen,
    (const unsigned char *string, size_t max_length), (string, max_length),
    0)
FWD(char *, p11_kit_space_strdup,
    (const unsigned char *string, size_t max_length), (string, max_length),
    NULL)
FWD(const char *, p11_kit_strerror, (CK_RV rv), (rv), p11_err)

FWD(const char *, p11_kit_message, (void), (), p11_err)

/* pin.h */
FWD(P11KitPin *, p11_kit_pin_file_callback,
    (const char *pin_source, P11KitUri *pin_uri, const char *pin_description,
    P11KitPinFlags pin_flags, void *callback_data),
    (pin_source, pin_uri, pin_description, pin_flags, callback_data), NULL)
FWD(size_t, p11_kit_pin_get_length, (P11KitPin *pin), (pin), 0)
FWD(const unsigned char *, p11_kit_pin_get_value,
    (P11KitPin *pin, size_t *length), (pin, length), NULL)
FWD(P11KitPin *, p11_kit_pin_new_for_string, (const char *value), (value),
    NULL)
FWD(int, p11_kit_pin_register_callback,
    (const char *pin_source, p11_kit_pin_callback callback,
    void *callback_data, p11_kit_pin_destroy_func callback_destroy),
    (pin_source, callback, callback_data, callback_destroy), -1)
FWD(P11KitPin *, p11_kit_pin_request,
    (const char *pin_source, P11KitUri *pin_uri, const char *pin_description,
    P11KitPinFlags pin_flags),
    (pin_source, pin_uri, pin_description, pin_flags), NULL)
FWD_VOID(p11_kit_pin_unref, (P11KitPin *pin), (pin))
FWD_VOID(p11_kit_pin_unregister_callback,
    (const char *pin_source, p11_kit_pin_callback callback,
    void *callback_data), (pin_source, callback, callback_data))

/* uri.h */
FWD(int, p11_kit_uri_format,
    (P11KitUri *uri, P11KitUriType uri_type, char **string),
    (uri, uri_type, string), P11_KIT_URI_UNEXPECTED)
FWD_VOID(p11_kit_uri_free, (P11KitUri *uri), (uri))
FWD(CK_ATTRIBUTE_PTR, p11_kit_uri_get_attribute,
    (P11KitUri *uri, CK_ATTRIBUTE_TYPE attr_type), (uri, attr_type), NULL)
FWD(CK_ATTRIBUTE_PTR, p11_kit_uri_get_attributes,
    (P11KitUri *uri, CK_ULONG *n_attrs), (uri, n_attrs), NULL)
FWD(CK_INFO_PTR, p11_kit_uri_get_module_info, (P11KitUri *uri), (uri), NULL)
FWD(const char *, p11_kit_uri_get_pin_source, (const P11KitUri *uri), (uri),
    NULL)
FWD(const char *, p11_kit_uri_get_pin_value, (const P11KitUri *uri), (uri),
    NULL)
FWD(CK_TOKEN_INFO_PTR, p11_kit_uri_get_token_info, (P11KitUri *uri), (uri),
    NULL)
FWD(int, p11_kit_uri_match_module_info,
    (const P11KitUri *uri, const CK_INFO *info), (uri, info), 0)
FWD(int, p11_kit_uri_match_token_info,
    (const P11KitUri *uri, const CK_TOKEN_INFO *token_info),
    (uri, token_info), 0)
FWD(P11KitUri *, p11_kit_uri_new, (void), (), NULL)
FWD(int, p11_kit_uri_parse,
    (const char *string, P11KitUriType uri_type, P11KitUri *uri),
    (string, uri_type, uri), P11_KIT_URI_UNEXPECTED)
FWD(int, p11_kit_uri_set_attribute, (P11KitUri *uri, CK_ATTRIBUTE_PTR attr),
    (uri, attr), P11_KIT_URI_UNEXPECTED)
