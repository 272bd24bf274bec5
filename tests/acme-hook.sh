#!/bin/sh
# acme-hook.sh - the challenge hooks of the real ACME clients in the tests
# (tests/acme-helpers.bash makes a wrapper per client that runs
# `acme-hook.sh CLIENT "$@"`: each client calls its hook its own way).
#
#   lego        present|cleanup FQDN VALUE        (--dns exec, EXEC_PATH)
#   certbot     auth|cleanup; CERTBOT_DOMAIN, CERTBOT_VALIDATION in the
#               environment                     (--manual-auth-hook)
#   dehydrated  deploy_challenge|clean_challenge DOMAIN TOKENFILE VALUE;
#               any other call is ignored        (HOOK=)
#   uacme       begin|done|failed TYPE IDENT TOKEN AUTH; declines (exit 1)
#               every TYPE but $ACME_WANT        (-h)
#
# dns-01 sets the TXT record through pebble-challtestsrv's API
# ($ACME_DNS_API); http-01 writes the key authorization under
# $ACME_WEBROOT/.well-known/acme-challenge/; tls-alpn-01 hands it to the
# running ualpn on $UALPN_SOCK.
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -eu

txt() {	# txt set|clear NAME [VALUE]
	name=${2%.}
	case $name in
	_acme-challenge.*) ;;
	*) name=_acme-challenge.$name ;;
	esac
	if [ "$1" = set ]; then
		body=$(printf '{"host":"%s.","value":"%s"}' "$name" "$3")
	else
		body=$(printf '{"host":"%s."}' "$name")
	fi
	curl -sS -f -o /dev/null -X POST -d "$body" "$ACME_DNS_API/$1-txt"
}

client=$1
shift
case $client in
lego)
	case $1 in
	present) txt set "$2" "$3" ;;
	cleanup) txt clear "$2" ;;
	esac
	;;
certbot)
	case $1 in
	auth) txt set "$CERTBOT_DOMAIN" "$CERTBOT_VALIDATION" ;;
	cleanup) txt clear "$CERTBOT_DOMAIN" ;;
	esac
	;;
dehydrated)
	case $1 in
	deploy_challenge) txt set "$2" "$4" ;;
	clean_challenge) txt clear "$2" ;;
	esac
	;;
uacme)
	method=$1 type=$2 ident=$3 token=$4 auth=$5
	[ "$type" = "$ACME_WANT" ] || exit 1
	case $type:$method in
	http-01:begin)
		mkdir -p "$ACME_WEBROOT/.well-known/acme-challenge"
		printf '%s' "$auth" > "$ACME_WEBROOT/.well-known/acme-challenge/$token"
		;;
	http-01:*) rm -f "$ACME_WEBROOT/.well-known/acme-challenge/$token" ;;
	dns-01:begin) txt set "$ident" "$auth" ;;
	dns-01:*) txt clear "$ident" ;;
	tls-alpn-01:begin)
		[ "$(echo "auth $ident $auth" | ualpn -s "$UALPN_SOCK")" = OK ]
		;;
	tls-alpn-01:*)
		[ "$(echo "unauth $ident" | ualpn -s "$UALPN_SOCK")" = OK ]
		;;
	*) exit 1 ;;
	esac
	;;
*)
	echo "acme-hook.sh: unknown client $client" >&2
	exit 2
	;;
esac
