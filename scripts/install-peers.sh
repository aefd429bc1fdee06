# Sourced by test.sh: installs the Debian packages of the real peers the integration tests
# talk to (tooling/test-peers finds them). Without root or apt it only says what is missing:
# those tests then skip with the reason, unless REQUIRE_PEERS=1 makes them fail.
DEBIAN_PEERS=(python3-hl7 openssl openjdk-17-jre-headless socat dcmtk python3-aiosmtpd openssh-server openssh-client vsftpd bsdutils wrk)

missing_peers=()
for pkg in "${DEBIAN_PEERS[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing_peers+=("$pkg")
done
if [ "${#missing_peers[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing test peers: ${missing_peers[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing_peers[@]}"
  else
    echo "Test peers not installed (their tests will skip): ${missing_peers[*]}"
  fi
fi
