/*
 * Lingang Gateway: runs official compiled Schematron (XSLT 2.0) with Saxon-HE on the JVM.
 *
 * The Python side (gateway/validation/jvm.py) starts this program and talks to it over
 * stdin/stdout in frames: a 4-byte big-endian length, then the frame. Separators are ASCII
 * control characters that XML 1.0 text cannot contain, so no field needs escaping:
 *
 *   request   id US op US arg GS body
 *   response  id GS section (GS section)*
 *
 * (US = 0x1f between fields, RS = 0x1e between records, GS = 0x1d between sections.)
 *
 * Operations:
 *   C  compile the stylesheet file named in arg (or, with arg empty, the stylesheet text in
 *      body); response section "OK" RS handle, or "ER" RS message.
 *   V  validate body (an XML document) with the handles in arg (comma separated). The first
 *      section is the document's: "OK", or "ER" RS message when it cannot be parsed. Then one
 *      section per handle: "OK" followed by RS record per failed assert or successful report
 *      (record = kind US id US flag US location US text), "NS" when the result is not SVRL,
 *      or "ER" RS message when the transform failed.
 *   W  as V, arg "handles;count": run count times, answer "OK" (JIT warm-up).
 *
 * Documents are parsed with DOCTYPE declarations refused and no external entities; the
 * gateway has already parsed each one with its own hardened parser before sending it.
 */

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.xml.parsers.SAXParserFactory;
import javax.xml.transform.sax.SAXSource;
import javax.xml.transform.stream.StreamSource;
import net.sf.saxon.s9api.DocumentBuilder;
import net.sf.saxon.s9api.Processor;
import net.sf.saxon.s9api.SAXDestination;
import net.sf.saxon.s9api.SaxonApiException;
import net.sf.saxon.s9api.XdmNode;
import net.sf.saxon.s9api.Xslt30Transformer;
import net.sf.saxon.s9api.XsltCompiler;
import net.sf.saxon.s9api.XsltExecutable;
import org.xml.sax.Attributes;
import org.xml.sax.InputSource;
import org.xml.sax.XMLReader;
import org.xml.sax.helpers.DefaultHandler;

public final class LingangSchematron {
    static final String SVRL = "http://purl.oclc.org/dsdl/svrl";
    static final char US = '\u001f';
    static final char RS = '\u001e';
    static final char GS = '\u001d';

    private final Processor processor = new Processor(false);
    private final List<XsltExecutable> executables = new CopyOnWriteArrayList<>();
    private final DataOutputStream out;
    private final ThreadLocal<DocumentBuilder> builders;
    private final ThreadLocal<XMLReader> readers;
    private final SAXParserFactory parsers;

    private LingangSchematron(DataOutputStream out) throws Exception {
        this.out = out;
        parsers = SAXParserFactory.newInstance();
        parsers.setNamespaceAware(true);
        parsers.setXIncludeAware(false);
        parsers.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        parsers.setFeature("http://xml.org/sax/features/external-general-entities", false);
        parsers.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
        builders = ThreadLocal.withInitial(processor::newDocumentBuilder);
        readers = ThreadLocal.withInitial(this::newReader);
    }

    private XMLReader newReader() {
        try {
            return parsers.newSAXParser().getXMLReader();
        } catch (Exception e) {
            throw new IllegalStateException("no XML parser: " + e.getMessage(), e);
        }
    }

    public static void main(String[] args) throws Exception {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 1;
        DataOutputStream out = new DataOutputStream(new BufferedOutputStream(System.out, 1 << 16));
        System.setOut(new PrintStream(System.err, true, "UTF-8"));
        DataInputStream in = new DataInputStream(new BufferedInputStream(System.in, 1 << 16));
        LingangSchematron host = new LingangSchematron(out);
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, threads));
        try {
            host.serve(in, pool);
        } finally {
            pool.shutdownNow();
        }
        System.exit(0);
    }

    private void serve(DataInputStream in, ExecutorService pool) throws IOException {
        while (true) {
            int length;
            try {
                length = in.readInt();
            } catch (EOFException e) {
                return;
            }
            byte[] frame = new byte[length];
            in.readFully(frame);
            int gs = indexOf(frame, (byte) GS);
            String head = new String(frame, 0, gs < 0 ? frame.length : gs, StandardCharsets.UTF_8);
            byte[] body = new byte[gs < 0 ? 0 : frame.length - gs - 1];
            if (gs >= 0) {
                System.arraycopy(frame, gs + 1, body, 0, body.length);
            }
            String[] fields = head.split(String.valueOf(US), -1);
            String id = fields[0];
            String op = fields.length > 1 ? fields[1] : "";
            String arg = fields.length > 2 ? fields[2] : "";
            switch (op) {
                case "C":
                    reply(id, compile(arg, body));
                    break;
                case "V":
                    pool.submit(() -> reply(id, validate(arg, body)));
                    break;
                case "W":
                    pool.submit(() -> reply(id, warm(arg, body)));
                    break;
                case "Q":
                    return;
                default:
                    reply(id, "ER" + RS + "unknown operation " + clean(op));
            }
        }
    }

    private static int indexOf(byte[] data, byte wanted) {
        for (int i = 0; i < data.length; i++) {
            if (data[i] == wanted) {
                return i;
            }
        }
        return -1;
    }

    private synchronized void reply(String id, String payload) {
        byte[] data = (id + GS + payload).getBytes(StandardCharsets.UTF_8);
        try {
            out.writeInt(data.length);
            out.write(data);
            out.flush();
        } catch (IOException e) {
            System.exit(3);
        }
    }

    private synchronized String compile(String path, byte[] text) {
        try {
            XsltCompiler compiler = processor.newXsltCompiler();
            StreamSource source = path.isEmpty()
                    ? new StreamSource(new StringReader(new String(text, StandardCharsets.UTF_8)))
                    : new StreamSource(new File(path));
            executables.add(compiler.compile(source));
            return "OK" + RS + (executables.size() - 1);
        } catch (SaxonApiException | RuntimeException e) {
            return "ER" + RS + clean("cannot compile " + path + ": " + e.getMessage());
        }
    }

    private String warm(String arg, byte[] body) {
        String[] parts = arg.split(";");
        int count = Integer.parseInt(parts[1]);
        for (int i = 0; i < count; i++) {
            validate(parts[0], body);
        }
        return "OK";
    }

    private String validate(String handles, byte[] body) {
        StringBuilder result = new StringBuilder();
        XdmNode node;
        try {
            InputSource input = new InputSource(new ByteArrayInputStream(body));
            node = builders.get().build(new SAXSource(readers.get(), input));
        } catch (SaxonApiException | RuntimeException e) {
            return "ER" + RS + clean("Saxon could not parse the document: " + e.getMessage());
        } catch (StackOverflowError e) {
            return "ER" + RS + "Saxon could not parse the document: nested too deeply";
        }
        result.append("OK");
        for (String handle : handles.split(",")) {
            result.append(GS);
            try {
                XsltExecutable executable = executables.get(Integer.parseInt(handle));
                Xslt30Transformer transformer = executable.load30();
                transformer.setGlobalContextItem(node);
                Findings findings = new Findings(result);
                transformer.applyTemplates(node, new SAXDestination(findings));
                if (!findings.svrl) {
                    result.setLength(findings.start);
                    result.append("NS");
                }
            } catch (SaxonApiException | RuntimeException e) {
                result.setLength(result.lastIndexOf(String.valueOf(GS)) + 1);
                result.append("ER").append(RS).append(clean(String.valueOf(e.getMessage())));
            } catch (StackOverflowError e) {
                result.setLength(result.lastIndexOf(String.valueOf(GS)) + 1);
                result.append("ER").append(RS).append("the rules recursed too deeply");
            }
        }
        return result.toString();
    }

    /** Message text without the protocol's separators. */
    static String clean(String text) {
        StringBuilder sb = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            sb.append(c < 0x20 && c != '\n' && c != '\t' ? ' ' : c);
        }
        return sb.toString();
    }

    /** Reads SVRL events and appends its failed asserts and successful reports as records. */
    static final class Findings extends DefaultHandler {
        final StringBuilder out;
        final int start;
        boolean svrl;
        private int depth;
        private boolean inFinding;
        private int textDepth;
        private final StringBuilder text = new StringBuilder();
        private String kind;
        private String id;
        private String flag;
        private String location;

        Findings(StringBuilder out) {
            this.out = out;
            this.start = out.length();
            out.append("OK");
        }

        @Override
        public void startElement(String uri, String local, String qname, Attributes attrs) {
            depth++;
            if (depth == 1) {
                svrl = SVRL.equals(uri) && "schematron-output".equals(local);
                return;
            }
            if (depth == 2 && SVRL.equals(uri)
                    && ("failed-assert".equals(local) || "successful-report".equals(local))) {
                inFinding = true;
                kind = local;
                id = attrs.getValue("", "id");
                flag = attrs.getValue("", "flag");
                location = attrs.getValue("", "location");
                text.setLength(0);
            } else if (inFinding && textDepth == 0 && SVRL.equals(uri) && "text".equals(local)) {
                textDepth = depth;
            }
        }

        @Override
        public void endElement(String uri, String local, String qname) {
            if (depth == textDepth) {
                textDepth = 0;
            }
            if (depth == 2 && inFinding) {
                inFinding = false;
                out.append(RS).append(kind).append(US).append(field(id)).append(US)
                        .append(field(flag)).append(US).append(field(location)).append(US)
                        .append(field(text.toString()));
            }
            depth--;
        }

        @Override
        public void characters(char[] ch, int begin, int length) {
            if (textDepth > 0) {
                text.append(ch, begin, length);
            }
        }

        private static String field(String value) {
            return value == null ? "" : clean(value);
        }
    }
}
