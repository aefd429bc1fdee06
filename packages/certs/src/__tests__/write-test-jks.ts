import { createCipheriv, createHash, randomBytes, type KeyObject } from "node:crypto";
import forge from "node-forge";

/**
 * A minimal JKS/JCEKS writer for tests, the mirror of the reader: keytool is the real check
 * (see the .int tests); this one gives unit and fuzz tests a valid store without a JVM.
 * Written from the format descriptions, not from the reader's code.
 */
export function writeTestJks(options: {
  storePassword: string;
  keyPassword: string;
  keys: { alias: string; privateKey: KeyObject; chainDer: Buffer[] }[];
  trusted: { alias: string; der: Buffer }[];
  /** Version 1 stores omit each certificate's type name. */
  version?: 1 | 2;
  /** JCEKS: magic 0xCECECECE and keys under PBEWithMD5AndTripleDES with this salt. */
  jceks?: { salt: Buffer; iterations: number };
}): Buffer {
  const jceks = options.jceks;
  const version = options.version ?? 2;
  const certificateType = version === 2 ? utf("X.509") : Buffer.alloc(0);
  const parts: Buffer[] = [
    u32(jceks === undefined ? 0xfeedfeed : 0xcececece),
    u32(version),
    u32(options.keys.length + options.trusted.length),
  ];
  for (const key of options.keys) {
    const pkcs8 = key.privateKey.export({ type: "pkcs8", format: "der" });
    parts.push(
      u32(1),
      utf(key.alias),
      Buffer.alloc(8),
      lengthPrefixed(
        jceks === undefined
          ? protect(pkcs8, options.keyPassword)
          : protectJceks(pkcs8, options.keyPassword, jceks),
      ),
    );
    parts.push(u32(key.chainDer.length));
    for (const der of key.chainDer) parts.push(certificateType, lengthPrefixed(der));
  }
  for (const trusted of options.trusted) {
    parts.push(
      u32(2),
      utf(trusted.alias),
      Buffer.alloc(8),
      certificateType,
      lengthPrefixed(trusted.der),
    );
  }
  const body = Buffer.concat(parts);
  const digest = createHash("sha1")
    .update(javaBytes(options.storePassword))
    .update("Mighty Aphrodite")
    .update(body)
    .digest();
  return Buffer.concat([body, digest]);
}

/** Sun's KeyProtector: the same SHA-1 keystream XOR the reader undoes. */
function protect(plaintext: Buffer, password: string): Buffer {
  const passwordBytes = javaBytes(password);
  const salt = randomBytes(20);
  const ciphertext = Buffer.alloc(plaintext.length);
  let digest: Buffer = salt;
  for (let block = 0; block < plaintext.length; block += 20) {
    digest = createHash("sha1").update(passwordBytes).update(digest).digest();
    for (let i = 0; i < 20 && block + i < plaintext.length; i++)
      ciphertext[block + i] = plaintext[block + i]! ^ digest[i]!;
  }
  const check = createHash("sha1").update(passwordBytes).update(plaintext).digest();
  const encryptedData = Buffer.concat([salt, ciphertext, check]);
  const asn1 = forge.asn1;
  const info = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
      asn1.create(
        asn1.Class.UNIVERSAL,
        asn1.Type.OID,
        false,
        asn1.oidToDer("1.3.6.1.4.1.42.2.17.1.1").getBytes(),
      ),
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, ""),
    ]),
    asn1.create(
      asn1.Class.UNIVERSAL,
      asn1.Type.OCTETSTRING,
      false,
      encryptedData.toString("binary"),
    ),
  ]);
  return Buffer.from(asn1.toDer(info).getBytes(), "binary");
}

/** Sun's PBEWithMD5AndTripleDES, as com.sun.crypto.provider.PBES1Core derives it. */
function protectJceks(
  plaintext: Buffer,
  password: string,
  parameters: { salt: Buffer; iterations: number },
): Buffer {
  const salt = Buffer.from(parameters.salt);
  if (salt.subarray(0, 4).equals(salt.subarray(4, 8))) {
    [salt[0], salt[3]] = [salt[3]!, salt[0]!];
    [salt[1], salt[2]] = [salt[2]!, salt[1]!];
  }
  const halves = [salt.subarray(0, 4), salt.subarray(4, 8)].map((half) => {
    let digest: Buffer = half;
    for (let i = 0; i < parameters.iterations; i++) {
      digest = createHash("md5").update(digest).update(password, "ascii").digest();
    }
    return digest;
  });
  const derived = Buffer.concat(halves);
  const cipher = createCipheriv("des-ede3-cbc", derived.subarray(0, 24), derived.subarray(24));
  const encrypted = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const asn1 = forge.asn1;
  const info = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
      asn1.create(
        asn1.Class.UNIVERSAL,
        asn1.Type.OID,
        false,
        asn1.oidToDer("1.3.6.1.4.1.42.2.19.1").getBytes(),
      ),
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
        asn1.create(
          asn1.Class.UNIVERSAL,
          asn1.Type.OCTETSTRING,
          false,
          parameters.salt.toString("binary"),
        ),
        asn1.create(
          asn1.Class.UNIVERSAL,
          asn1.Type.INTEGER,
          false,
          asn1.integerToDer(parameters.iterations).getBytes(),
        ),
      ]),
    ]),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, encrypted.toString("binary")),
  ]);
  return Buffer.from(asn1.toDer(info).getBytes(), "binary");
}

function javaBytes(password: string): Buffer {
  return Buffer.from(password, "utf16le").swap16();
}

function u32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value);
  return buffer;
}

function utf(text: string): Buffer {
  const bytes = Buffer.from(text, "utf8");
  const length = Buffer.alloc(2);
  length.writeUInt16BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function lengthPrefixed(bytes: Buffer): Buffer {
  return Buffer.concat([u32(bytes.length), bytes]);
}
