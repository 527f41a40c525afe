package io.sluice.tls;

import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;

/**
 * Proves that a private key belongs to a certificate: signs random bytes with the key and verifies them with the
 * certificate's public key. Comparing key parameters would miss a key of the right kind but from another pair.
 */
final class KeyMatch {
    private static final SecureRandom RANDOM = new SecureRandom();

    private KeyMatch() {
    }

    static boolean matches(PrivateKey key, X509Certificate cert) {
        String algorithm = key.getAlgorithm();
        if (!algorithm.equals(cert.getPublicKey().getAlgorithm())) {
            return false;
        }
        byte[] challenge = new byte[32];
        RANDOM.nextBytes(challenge);
        try {
            Signature signer = signature(algorithm);
            signer.initSign(key);
            signer.update(challenge);
            byte[] signed = signer.sign();
            Signature verifier = signature(algorithm);
            verifier.initVerify(cert.getPublicKey());
            verifier.update(challenge);
            return verifier.verify(signed);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static Signature signature(String keyAlgorithm) throws GeneralSecurityException {
        return switch (keyAlgorithm) {
            case "EC" -> Signature.getInstance("SHA256withECDSA");
            case "RSA" -> Signature.getInstance("SHA256withRSA");
            case "RSASSA-PSS" -> {
                Signature s = Signature.getInstance("RSASSA-PSS");
                s.setParameter(new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1));
                yield s;
            }
            default -> Signature.getInstance(keyAlgorithm); // Ed25519, Ed448 name their own scheme
        };
    }
}
