import java.io.ByteArrayInputStream;
import java.io.FileInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Key;
import java.security.Provider;
import java.security.Security;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.AlgorithmParameterSpec;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import javax.xml.crypto.AlgorithmMethod;
import javax.xml.crypto.Data;
import javax.xml.crypto.KeySelector;
import javax.xml.crypto.KeySelectorResult;
import javax.xml.crypto.OctetStreamData;
import javax.xml.crypto.URIDereferencer;
import javax.xml.crypto.URIReference;
import javax.xml.crypto.XMLCryptoContext;
import javax.xml.crypto.XMLStructure;
import javax.xml.crypto.dsig.Reference;
import javax.xml.crypto.dsig.TransformService;
import javax.xml.crypto.dsig.XMLSignature;
import javax.xml.crypto.dsig.XMLSignatureFactory;
import javax.xml.crypto.dsig.dom.DOMValidateContext;
import javax.xml.crypto.dsig.keyinfo.KeyInfo;
import javax.xml.crypto.dsig.spec.TransformParameterSpec;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * Core XML-DSig validation by the JDK's own implementation (JSR 105, Apache Santuario's
 * lineage): an independent verifier for the tests.
 *
 * <pre>java XmlDsigCheck SIGNED.xml SIGNER.pem [--id NS LOCAL]... [--data URI FILE]...</pre>
 *
 * Verifies the first ds:Signature of SIGNED.xml with SIGNER.pem's key. --id makes the
 * attribute NS:LOCAL an ID (NS "-" for no namespace); --data answers the reference URI
 * (a detached file, an AS4 attachment's "cid:") with FILE's octets. The WS-Security SwA
 * Attachment-Content-Signature-Transform passes octets through (SwA 1.1 5.2: no MIME headers
 * are signed with it). Prints VALID, or INVALID with each reference's result; exits 0 / 1.
 */
public class XmlDsigCheck {
    static final String DS = "http://www.w3.org/2000/09/xmldsig#";
    static final String SWA_CONTENT =
        "http://docs.oasis-open.org/wss/oasis-wss-SwAProfile-1.1#Attachment-Content-Signature-Transform";

    /** The SwA attachment transform: the octets of the attachment's content, unchanged. */
    public static class AttachmentContent extends TransformService {
        @Override
        public void init(TransformParameterSpec params) {}

        @Override
        public void init(XMLStructure parent, XMLCryptoContext context) {}

        @Override
        public void marshalParams(XMLStructure parent, XMLCryptoContext context) {}

        @Override
        public AlgorithmParameterSpec getParameterSpec() {
            return null;
        }

        @Override
        public Data transform(Data data, XMLCryptoContext context) {
            return data;
        }

        @Override
        public Data transform(Data data, XMLCryptoContext context, java.io.OutputStream out)
                throws javax.xml.crypto.dsig.TransformException {
            try {
                ((OctetStreamData) data).getOctetStream().transferTo(out);
            } catch (java.io.IOException e) {
                throw new javax.xml.crypto.dsig.TransformException(e);
            }
            return null;
        }

        @Override
        public boolean isFeatureSupported(String feature) {
            return false;
        }
    }

    public static void main(String[] args) throws Exception {
        Provider swa = new Provider("LingangTestSwA", "1.0", "SwA attachment transform") {};
        swa.put("TransformService." + SWA_CONTENT, AttachmentContent.class.getName());
        swa.put("TransformService." + SWA_CONTENT + " MechanismType", "DOM");
        Security.addProvider(swa);

        DocumentBuilderFactory builders = DocumentBuilderFactory.newInstance();
        builders.setNamespaceAware(true);
        Document document = builders.newDocumentBuilder().parse(new FileInputStream(args[0]));
        X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509")
            .generateCertificate(new FileInputStream(args[1]));
        Map<String, byte[]> data = new HashMap<>();
        for (int i = 2; i < args.length; i += 3) {
            if (args[i].equals("--id")) {
                String ns = args[i + 1].equals("-") ? null : args[i + 1];
                markIds(document.getDocumentElement(), ns, args[i + 2]);
            } else if (args[i].equals("--data")) {
                data.put(args[i + 1], Files.readAllBytes(Path.of(args[i + 2])));
            } else {
                throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        NodeList found = document.getElementsByTagNameNS(DS, "Signature");
        if (found.getLength() == 0) {
            System.out.println("INVALID: no ds:Signature");
            System.exit(1);
        }
        XMLSignatureFactory factory = XMLSignatureFactory.getInstance("DOM");
        KeySelector key = new KeySelector() {
            @Override
            public KeySelectorResult select(KeyInfo info, Purpose purpose, AlgorithmMethod method, XMLCryptoContext context) {
                return () -> (Key) cert.getPublicKey();
            }
        };
        DOMValidateContext context = new DOMValidateContext(key, found.item(0));
        URIDereferencer standard = factory.getURIDereferencer();
        context.setURIDereferencer((URIReference reference, XMLCryptoContext ctx) -> {
            byte[] octets = data.get(reference.getURI());
            if (octets != null) {
                return new OctetStreamData(new ByteArrayInputStream(octets), reference.getURI(), null);
            }
            return standard.dereference(reference, ctx);
        });
        XMLSignature signature = factory.unmarshalXMLSignature(context);
        boolean valid = signature.validate(context);
        if (valid) {
            System.out.println("VALID");
            return;
        }
        StringBuilder why = new StringBuilder("INVALID: signature value ");
        why.append(signature.getSignatureValue().validate(context) ? "ok" : "fails");
        Iterator<?> references = signature.getSignedInfo().getReferences().iterator();
        while (references.hasNext()) {
            Reference reference = (Reference) references.next();
            why.append("; ").append(reference.getURI()).append(reference.validate(context) ? " ok" : " fails");
        }
        System.out.println(why);
        System.exit(1);
    }

    static void markIds(Element element, String ns, String local) {
        if (element.hasAttributeNS(ns, local)) {
            element.setIdAttributeNS(ns, local, true);
        }
        NodeList children = element.getChildNodes();
        for (int i = 0; i < children.getLength(); i++) {
            if (children.item(i) instanceof Element child) {
                markIds(child, ns, local);
            }
        }
    }
}
